// The sender addresses of a campaign, normalised the way subscriber addresses are; an empty
// string clears a field.
import { normalizeEmail } from './email.js';
import { validation, type FieldError } from './errors.js';

interface SenderAddresses {
  fromEmail?: string | null | undefined;
  replyTo?: string | null | undefined;
}

export function checkAddresses<T extends SenderAddresses>(input: T): T {
  const errors: FieldError[] = [];
  const out = { ...input };
  for (const field of ['fromEmail', 'replyTo'] as const) {
    const value = input[field];
    if (value === undefined || value === null || value === '') {
      if (value === '') out[field] = null;
      continue;
    }
    const result = normalizeEmail(value);
    if (result.ok) out[field] = result.email;
    else errors.push({ path: field, message: result.reason });
  }
  if (errors.length > 0) throw validation(errors);
  return out;
}
