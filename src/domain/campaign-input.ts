// Campaign input rules without I/O: the sender addresses, normalised the way subscriber
// addresses are (an empty string clears a field), and the archive slug.
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

/** The keys whose value is not undefined (a partial update's fields). */
export function definedOf<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** An archive slug from a campaign's name: lower-case ASCII words joined by hyphens. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug || 'newsletter';
}

export const ARCHIVE_SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A campaign's page in the public archive: the one place its address is made. */
export const archivePageUrl = (publicUrl: string, slug: string) =>
  `${publicUrl}/archive/${encodeURIComponent(slug)}`;
