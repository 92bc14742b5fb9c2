import { attributes, isText, plainText, z } from './common.js';

export const TEMPLATE_MAX_BYTES = 512 * 1024;

const mjmlSource = z
  .string()
  .min(1, { error: 'is required' })
  .refine((s) => Buffer.byteLength(s) <= TEMPLATE_MAX_BYTES, {
    error: 'must be at most 512 KB',
  })
  .refine(isText, { error: 'must not contain control characters' })
  .meta({ description: 'MJML with Liquid merge tags; `{{ content }}` marks the content slot' });

export const templateCreate = z
  .strictObject({
    name: plainText(200).pipe(z.string().trim().min(1, { error: 'is required' })),
    mjml: mjmlSource,
  })
  .meta({ id: 'TemplateCreate' });

export const templatePatch = templateCreate.partial().meta({ id: 'TemplatePatch' });

const dates = {
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
};

export const templateSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    mjml: z.string(),
    ...dates,
    warnings: z.array(z.string()).optional().meta({
      description: 'Only in answers to POST and PATCH: what was accepted but looks wrong',
    }),
  })
  .meta({ id: 'Template' });

export const templateSummarySchema = z
  .object({ id: z.number().int(), name: z.string(), mjmlBytes: z.number().int(), ...dates })
  .meta({ id: 'TemplateSummary' });

export const templatePreviewRequest = z
  .strictObject({
    subscriber: z
      .strictObject({
        email: z.string().max(254).optional(),
        name: z.string().max(200).optional(),
        uuid: z.string().max(64).optional(),
        attributes: attributes.optional(),
      })
      .optional(),
    campaign: z
      .strictObject({
        name: z.string().max(200).optional(),
        subject: z.string().max(1000).optional().meta({ description: 'Liquid allowed' }),
        uuid: z.string().max(64).optional(),
        data: attributes.optional(),
      })
      .optional(),
    list: z.strictObject({ name: z.string().max(200).optional() }).optional(),
    content: z
      .string()
      .max(TEMPLATE_MAX_BYTES)
      .optional()
      .meta({ description: 'Campaign content for the slot; a placeholder paragraph if absent' }),
    contentType: z.enum(['markdown', 'mjml']).optional(),
  })
  .meta({ id: 'TemplatePreviewRequest' });

export const templatePreviewSchema = z
  .object({
    subject: z.string(),
    html: z.string(),
    text: z.string(),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'TemplatePreview' });
