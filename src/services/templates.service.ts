import { SYSTEM_ACTOR, type Actor } from '../domain/audit.js';
import { AppError, notFound } from '../domain/errors.js';
import type {
  TemplateFields,
  TemplateRow,
  TemplateSummaryRow,
  TemplatesRepository,
} from '../db/repositories/templates.repository.js';
import {
  compileMessage,
  hasUnsubscribeLink,
  Personalizer,
  unknownVariables,
  validateTemplateSource,
  type MergeVars,
} from '../mail/render.js';
import { sampleMergeVars, SAMPLE_CONTENT, SAMPLE_SUBJECT } from '../mail/samples.js';

export type TemplateWithWarnings = TemplateRow & { warnings: string[] };

export interface PreviewInput {
  subscriber?: Partial<MergeVars['subscriber']>;
  campaign?: Partial<MergeVars['campaign']>;
  list?: Partial<MergeVars['list']>;
  content?: string;
  contentType?: 'markdown' | 'mjml';
}

export interface Preview {
  subject: string;
  html: string;
  text: string;
  warnings: string[];
}

export class TemplatesService {
  constructor(
    private readonly templates: TemplatesRepository,
    private readonly options: {
      publicUrl: string;
      org: { name: string; address?: string | undefined };
    },
    /** Told when a template's MJML changed (approvals of campaigns using it may no longer hold). */
    private readonly onMjmlChanged?: (templateId: number, actor: Actor) => Promise<void>,
  ) {}

  async create(fields: TemplateFields): Promise<TemplateWithWarnings> {
    const warnings = await this.check(fields.mjml);
    return { ...(await this.templates.create(fields)), warnings };
  }

  async get(id: number): Promise<TemplateRow> {
    const row = await this.templates.findById(id);
    if (!row) throw notFound('Template', id);
    return row;
  }

  async page(after: number | undefined, limit: number): Promise<TemplateSummaryRow[]> {
    return this.templates.page(after, limit);
  }

  async update(
    id: number,
    fields: Partial<TemplateFields>,
    actor: Actor = SYSTEM_ACTOR,
  ): Promise<TemplateWithWarnings> {
    const warnings = fields.mjml === undefined ? [] : await this.check(fields.mjml);
    const row = await this.templates.update(id, fields);
    if (!row) throw notFound('Template', id);
    if (fields.mjml !== undefined) await this.onMjmlChanged?.(id, actor);
    return { ...row, warnings };
  }

  async delete(id: number): Promise<void> {
    const outcome = await this.templates.delete(id);
    if (outcome === 'missing') throw notFound('Template', id);
    if (outcome === 'in-use') {
      const campaigns = await this.templates.campaignsUsing(id);
      throw new AppError(
        'conflict',
        `Template ${id} is used by campaigns ${campaigns.join(', ')}: delete or change them first`,
        { extra: { campaignIds: campaigns } },
      );
    }
  }

  /**
   * Renders the template as one recipient would see it: given values over sample ones, the
   * given content (or a placeholder) in the {{ content }} slot.
   */
  async preview(id: number, input: PreviewInput): Promise<Preview> {
    return this.previewSource((await this.get(id)).mjml, input);
  }

  /** The same for MJML not saved yet (the console's live preview); invalid MJML is a 422. */
  async previewSource(mjml: string, input: PreviewInput): Promise<Preview> {
    const { errors } = validateTemplateSource(mjml);
    if (errors.length > 0) {
      throw new AppError('unprocessable', 'The template is not valid: see errors', { errors });
    }
    const sample = sampleMergeVars(this.options.publicUrl, new Date(), this.options.org);
    const vars: MergeVars = {
      ...sample,
      subscriber: { ...sample.subscriber, ...input.subscriber },
      campaign: { ...sample.campaign, ...input.campaign },
      list: { ...sample.list, ...input.list },
    };
    const compiled = await compileMessage({
      mjml,
      content: input.content ?? SAMPLE_CONTENT,
      contentType: input.content === undefined ? 'markdown' : (input.contentType ?? 'markdown'),
      subject: input.campaign?.subject ?? SAMPLE_SUBJECT,
    });
    const rendered = new Personalizer(compiled).render(vars);
    const warnings = [
      ...compiled.warnings,
      ...unknownVariables(compiled).map(
        (name) => `{{ ${name} }} is not a merge variable: it renders empty`,
      ),
      ...(hasUnsubscribeLink(compiled)
        ? []
        : ['no {{ unsubscribe_url }} or {{ preferences_url }}: a campaign refuses to send this']),
    ];
    return { ...rendered, warnings };
  }

  /** Refuses (422) what cannot be compiled; returns the warnings of what can. */
  private async check(mjml: string): Promise<string[]> {
    const { errors, warnings } = validateTemplateSource(mjml);
    if (errors.length > 0) {
      throw new AppError('unprocessable', 'The template is not valid: see errors', { errors });
    }
    // Compiling once catches what only MJML's renderer notices; it costs tens of ms per save.
    const compiled = await compileMessage({ mjml, content: null, subject: '' });
    return [...new Set([...warnings, ...compiled.warnings])];
  }
}
