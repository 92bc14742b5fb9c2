import type { z } from 'zod';
import { validation, type FieldError } from '../../domain/errors.js';

export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    // An unknown field (often a typo: `listsIds`) is named by its own path, one entry each, so a
    // client can point at it like any other invalid field.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [path, key].filter(Boolean).join('.'),
        message: 'is not a known field',
      }));
    }
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return [{ path: path || '(body)', message }];
  });
}

/** Parses a value with a schema or throws a 400 with one entry per field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validation(fieldErrors(result.error, prefix));
  return result.data;
}
