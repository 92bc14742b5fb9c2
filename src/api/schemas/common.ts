import { z } from 'zod';
import { hasControlCharacters } from '../../domain/text.js';

// The request validators and the OpenAPI document share these schemas. Their OpenAPI details
// (names, examples) are zod's own `.meta()`, which zod-to-openapi reads: nothing patches zod.

export { z };

export const plainText = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !hasControlCharacters(s), {
      error: 'must not contain line breaks or control characters',
    });

// eslint-disable-next-line no-control-regex
const NON_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Text that may span lines (descriptions, content, MJML): tabs and line breaks are fine, NUL
 * and other control characters are not (PostgreSQL cannot even store NUL in text).
 */
export const multilineText = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .refine(isText, { error: 'must not contain control characters' });

/** No NUL or other control characters; tabs and line breaks allowed. */
export function isText(s: string): boolean {
  return !NON_TEXT.test(s);
}

/** JSON objects stored as jsonb: no NUL anywhere (jsonb refuses \u0000 in keys and strings). */
export const withoutNul = (value: unknown) => !JSON.stringify(value).includes('\\u0000');

export const idParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { error: 'must be a positive whole number' })
    .transform(Number)
    .meta({ type: 'integer', example: 1 }),
});

export const pageQuery = z.object({
  after: z.string().max(200).optional().meta({ description: 'cursor from a previous `next`' }),
  limit: z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, { error: 'must be at least 1' })
        .max(1000, { error: 'must be at most 1000' }),
    )
    .optional()
    .meta({ type: 'integer', example: 100 }),
});

/**
 * `__proto__` cannot be an own key of a JavaScript object built by assignment: it would vanish
 * silently (or, elsewhere, reach a prototype). Refused by name before the record is built.
 */
export const withoutProtoKey = z.unknown().superRefine((value, ctx) => {
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
    ctx.addIssue({ code: 'custom', message: 'is a reserved name', path: ['__proto__'] });
  }
});

export const attributes = withoutProtoKey
  .pipe(z.record(z.string().min(1).max(100), z.unknown()))
  .refine((value) => JSON.stringify(value).length <= 16_384, {
    error: 'must be at most 16 KB as JSON',
  })
  .refine(withoutNul, { error: 'must not contain NUL characters' })
  .meta({ type: 'object', example: { city: 'Geneva' } });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export const pageOf = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ data: z.array(item), next: z.string().nullable() });

/** The fields every stored resource answers with first. */
export const identity = { id: z.number().int(), uuid: z.string().uuid() };

/** Integer counts, one field per name, in that order. */
export function counts<K extends string>(names: readonly K[]): Record<K, z.ZodNumber> {
  return Object.fromEntries(names.map((n) => [n, z.number().int()])) as Record<K, z.ZodNumber>;
}
