// Per-recipient rendering: the three Liquid templates of a compiled message are parsed once,
// then rendered synchronously for each recipient (thousands per second; no MJML here).
import { Context, Output, Tag, type Template } from 'liquidjs';
import { AppError } from '../domain/errors.js';
import { headerText } from '../domain/text.js';
import { describeLiquidError, htmlLiquid, isRenderTimeout, textLiquid } from './liquid.js';
import { encodeQuotedPrintableSegment } from './qp.js';
import type { CompiledMessage, MergeVars, RenderedMessage } from './types.js';

/**
 * The HTML template cut where Liquid is: static runs (most of a newsletter's 30–60 KB) are
 * quoted-printable encoded once, per-recipient runs are rendered and encoded for each message.
 */
type Segment = { static: true; encoded: string } | { static: false; templates: Template[] };

function segment(templates: Template[]): Segment[] {
  const segments: Segment[] = [];
  let dynamic: Template[] = [];
  for (const template of templates) {
    // liquidjs parses a template into raw HTML runs, outputs ({{ }}) and tags ({% %}).
    if (template instanceof Output || template instanceof Tag) {
      dynamic.push(template);
      continue;
    }
    if (dynamic.length > 0) segments.push({ static: false, templates: dynamic });
    dynamic = [];
    const html = (template as unknown as { str: string }).str;
    if (typeof html !== 'string') throw new Error('unexpected template kind');
    segments.push({ static: true, encoded: encodeQuotedPrintableSegment(html) });
  }
  if (dynamic.length > 0) segments.push({ static: false, templates: dynamic });
  return segments;
}

/** A recipient's message, the HTML part already quoted-printable for the MIME composer. */
export interface RenderedForMime {
  subject: string;
  text: string;
  htmlEncoded: string;
}

/** A subject is a header: the one header rule (domain/text.ts) applies. */
export const cleanSubject = headerText;

export class Personalizer {
  private readonly subject: Template[];
  private readonly html: Template[];
  private readonly text: Template[];
  private readonly htmlSegments: Segment[];

  /** Throws on a Liquid syntax error (compileMessage has already refused those). */
  constructor(compiled: CompiledMessage) {
    this.subject = textLiquid.parse(compiled.subject);
    this.html = htmlLiquid.parse(compiled.html);
    this.text = textLiquid.parse(compiled.text);
    this.htmlSegments = segment(this.html);
  }

  /**
   * The same message as render(), with the HTML part quoted-printable: only the Liquid runs
   * are rendered and encoded per recipient. One Liquid context renders every run in order, so
   * `assign`, `capture` and the render limits behave exactly as in a whole-template render.
   */
  renderForMime(vars: MergeVars): RenderedForMime {
    return guarded(() => {
      const contexts = renderContexts(toScope(vars));
      let htmlEncoded = '';
      for (const part of this.htmlSegments) {
        htmlEncoded += part.static
          ? part.encoded
          : encodeQuotedPrintableSegment(
              String(htmlLiquid.renderSync(part.templates, contexts.html)),
            );
      }
      return {
        subject: cleanSubject(String(textLiquid.renderSync(this.subject, contexts.subject))),
        text: tidyText(String(textLiquid.renderSync(this.text, contexts.text))),
        htmlEncoded,
      };
    });
  }

  /**
   * Renders one recipient's message. HTML output is escaped; text and subject are not (they
   * are not HTML). Throws when a render limit is hit: a permanent failure for this message.
   */
  render(vars: MergeVars): RenderedMessage {
    return guarded(() => {
      const contexts = renderContexts(toScope(vars));
      return {
        subject: cleanSubject(String(textLiquid.renderSync(this.subject, contexts.subject))),
        html: String(htmlLiquid.renderSync(this.html, contexts.html)),
        text: tidyText(String(textLiquid.renderSync(this.text, contexts.text))),
      };
    });
  }
}

/**
 * One context per part (an `assign` in the subject stays out of the text), sharing one render
 * deadline and one memory budget: a recipient's whole message, all three parts together, may
 * hold the process for at most RENDER_LIMIT_MS, never three times that.
 */
function renderContexts(scope: Record<string, unknown>) {
  const html = new Context(scope, htmlLiquid.options, { sync: true }, { liquid: htmlLiquid });
  const shared = {
    liquid: textLiquid,
    renderLimit: html.renderLimit,
    memoryLimit: html.memoryLimit,
  };
  return {
    html,
    subject: new Context(scope, textLiquid.options, { sync: true }, shared),
    text: new Context(scope, textLiquid.options, { sync: true }, shared),
  };
}

/**
 * A render stopped at its wall-clock limit. Unlike the template's other errors it may be the
 * machine's doing (a garbage collection, a busy core), so a sender may try once more.
 */
export class RenderTimeout extends AppError {}

/** A render that fails (a limit hit, a filter's error) is the template's fault: 422 wherever it is. */
function guarded<T>(render: () => T): T {
  try {
    return render();
  } catch (error) {
    const { message } = describeLiquidError(error);
    const Problem = isRenderTimeout(error) ? RenderTimeout : AppError;
    throw new Problem('unprocessable', `The template cannot be rendered: ${message}`, {
      errors: [{ path: 'template', message }],
    });
  }
}

/** Tags that rendered to nothing leave blank lines and trailing spaces in the text part. */
function tidyText(text: string): string {
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '');
}

/**
 * A fresh plain scope with only the MergeVars keys: whatever else a caller's objects carry
 * (class instances, extra fields) stays out of reach of templates.
 */
function toScope(vars: MergeVars): Record<string, unknown> {
  return {
    subscriber: {
      email: vars.subscriber.email,
      name: vars.subscriber.name,
      uuid: vars.subscriber.uuid,
      attributes: vars.subscriber.attributes ?? {},
    },
    campaign: {
      name: vars.campaign.name,
      subject: vars.campaign.subject,
      uuid: vars.campaign.uuid,
      data: vars.campaign.data ?? {},
    },
    list: { name: vars.list.name },
    org: { name: vars.org?.name ?? '', address: vars.org?.address ?? '' },
    unsubscribe_url: vars.unsubscribe_url,
    preferences_url: vars.preferences_url,
    archive_url: vars.archive_url,
    confirm_url: vars.confirm_url,
    tracked_links: vars.tracked_links ?? [],
    open_pixel_url: vars.open_pixel_url ?? '',
  };
}
