// Compiles a campaign's message once: the content goes where the template says {{ content }},
// MJML runs once, and the plain-text template is generated from its HTML. Every other merge
// tag survives into the result and is rendered per recipient by the Personalizer.
import mjml2html from 'mjml';
import { AppError, type FieldError } from '../domain/errors.js';
import { contentSlots, type SourceIssue } from '../domain/liquid-rules.js';
import { htmlLiquid, textLiquid, tryParse, describeLiquidError } from './liquid.js';
import { htmlToTextTemplate, markdownToHtml } from './markup.js';
import { ENDING_TAGS } from './mjml-sync.js';
import type { CompiledMessage } from './types.js';
import { checkSource, formatIssue, GMAIL_CLIP_BYTES } from './validate.js';

/** What mj-preview writes: white 1 px text, which spam filters read as hidden text. */
const MJML_PREVIEW =
  /<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;opacity:0;overflow:hidden;">/;

/**
 * The inbox preview line, hidden without a colour or a tiny font: SpamAssassin's
 * HTML_FONT_LOW_CONTRAST scores text coloured like its background (+0.7), which is what MJML's
 * own markup is. display:none and mso-hide keep it out of the message body in every client.
 */
export function hidePreviewText(html: string): string {
  return html.replace(
    MJML_PREVIEW,
    '<div style="display:none;max-height:0;max-width:0;overflow:hidden;mso-hide:all;" aria-hidden="true">',
  );
}

export interface CompileInput {
  mjml: string;
  content?: string | null;
  contentType?: 'markdown' | 'mjml';
  subject: string;
}

/** Where Markdown content lands; templates can style it as `.bulletin-content h2` etc. */
export const CONTENT_CLASS = 'bulletin-content';

/** How MJML runs: never reads a file (mj-include ignored), never adds web fonts by itself. */
export const MJML_OPTIONS = {
  validationLevel: 'skip', // checkSource has validated, with line numbers mapped back
  ignoreIncludes: true,
  keepComments: false,
  fonts: {}, // no web fonts fetched unless the template asks with <mj-font>
  minify: false,
  beautify: false,
  filePath: '.',
  actualPath: '.',
} as const;

const unprocessable = (errors: FieldError[]) =>
  new AppError('unprocessable', 'The message cannot be compiled: see errors', { errors });

const newlines = (s: string) => s.split('\n').length - 1;

/** Markdown becomes an <mj-text>, wrapped in whatever the slot's parent tag needs around it. */
function wrapMarkdown(html: string, parent: string | undefined): string {
  if (html === '') return '';
  if (parent && ENDING_TAGS.has(parent)) return html;
  const text = `<mj-text css-class="${CONTENT_CLASS}">${html}</mj-text>`;
  if (parent === 'mj-column' || parent === 'mj-hero') return text;
  if (parent === 'mj-section' || parent === 'mj-group') return `<mj-column>${text}</mj-column>`;
  return `<mj-section><mj-column>${text}</mj-column></mj-section>`;
}

interface Merged {
  source: string;
  slots: number;
  /** Maps an issue found in the merged source back to the template or the content. */
  locate(issue: SourceIssue): { path: 'mjml' | 'content'; message: string };
}

function mergeContent(mjml: string, content: string, contentType: 'markdown' | 'mjml'): Merged {
  const html = contentType === 'markdown' && content.trim() ? markdownToHtml(content) : '';
  const regions: { first: number; last: number; delta: number }[] = [];
  let source = '';
  let from = 0;
  const slots = contentSlots(mjml, ENDING_TAGS);
  for (const slot of slots) {
    source += mjml.slice(from, slot.start);
    const inserted = contentType === 'mjml' ? content : wrapMarkdown(html, slot.parent);
    const first = newlines(source) + 1;
    source += inserted;
    regions.push({
      first,
      last: newlines(source) + 1,
      delta: newlines(inserted) - newlines(mjml.slice(slot.start, slot.end)),
    });
    from = slot.end;
  }
  source += mjml.slice(from);
  return {
    source,
    slots: slots.length,
    locate(issue) {
      const region = regions.find((r) => issue.line >= r.first && issue.line <= r.last);
      if (region) {
        const where = contentType === 'mjml' ? `line ${issue.line - region.first + 1}: ` : '';
        return { path: 'content', message: `${where}${issue.message} (${issue.tag})` };
      }
      const shift = regions.filter((r) => r.last < issue.line).reduce((n, r) => n + r.delta, 0);
      return { path: 'mjml', message: formatIssue({ ...issue, line: issue.line - shift }) };
    },
  };
}

export async function compileMessage(input: CompileInput): Promise<CompiledMessage> {
  const content = input.content ?? '';
  const contentType = input.contentType ?? 'markdown';
  const errors: FieldError[] = [];
  const subject = tryParse(input.subject);
  if (!subject.ok) {
    errors.push({ path: 'subject', message: `${subject.problem.message} (liquid)` });
  }
  if (content.trim() !== '') {
    const parsed = tryParse(content);
    if (!parsed.ok) {
      const line = parsed.problem.line ?? 1;
      errors.push({ path: 'content', message: `line ${line}: ${parsed.problem.message} (liquid)` });
    }
  }
  if (errors.length > 0) throw unprocessable(errors);

  const merged = mergeContent(input.mjml, content, contentType);
  const report = checkSource(merged.source);
  if (report.errors.length > 0) {
    throw unprocessable(report.errors.map((issue) => merged.locate(issue)));
  }
  const warnings = report.warnings.map((issue) => {
    const { path, message } = merged.locate(issue);
    return path === 'content' ? `content: ${message}` : message;
  });
  if (merged.slots === 0 && content.trim() !== '') {
    warnings.push('the template has no {{ content }}: the campaign content is not in the message');
  }
  if (contentType === 'markdown' && /<\/?[a-z][a-z0-9-]*[\s/>]/i.test(content)) {
    warnings.push('content: HTML tags in Markdown content are shown as text, not as markup');
  }

  let html: string;
  try {
    ({ html } = await mjml2html(merged.source, MJML_OPTIONS));
  } catch (error) {
    throw unprocessable([
      { path: 'mjml', message: `MJML could not compile the template: ${(error as Error).message}` },
    ]);
  }
  html = hidePreviewText(html);

  const text = htmlToTextTemplate(html);
  for (const [engine, source, part] of [
    [htmlLiquid, html, 'HTML'],
    [textLiquid, text, 'plain-text'],
  ] as const) {
    try {
      engine.parse(source);
    } catch (error) {
      const problem = describeLiquidError(error);
      throw unprocessable([
        {
          path: 'mjml',
          message: `the compiled ${part} part has a broken merge tag: ${problem.message} (liquid)`,
        },
      ]);
    }
  }
  if (Buffer.byteLength(html) > GMAIL_CLIP_BYTES) {
    warnings.push(
      `the HTML is ${Math.round(Buffer.byteLength(html) / 1024)} KB: Gmail clips messages over 102 KB`,
    );
  }
  return { subject: input.subject, html, text, warnings: [...new Set(warnings)] };
}
