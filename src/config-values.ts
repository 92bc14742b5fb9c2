// The value types of the configuration schema (src/config.ts): numbers that refuse blanks,
// URLs of given protocols, TRUST_PROXY items. Nothing here reads the environment.
import { isIP } from 'node:net';
import { z } from 'zod';

// Number('') and Number('  ') are 0: a blank value must be refused, never read as zero.
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  blankToNaN(
    z.coerce
      .number({ error: 'must be a number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  );

function blankToNaN<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? Number.NaN : v), schema);
}

export const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

export const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    );

/**
 * Whether links under this base can be one-click unsubscribe links: RFC 8058 wants https. A
 * trial on this machine (localhost, 127.0.0.1, ::1) reaches no mail client, so http is allowed.
 */
export function oneClickCapable(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** One item of TRUST_PROXY: what Express's `trust proxy` takes, minus "trust everybody". */
export function isProxyItem(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address, bits, ...rest] = item.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

/** Settings that only work as a group: names each missing one when some are set. */
export function together<T extends Record<string, unknown>>(raw: T, names: (keyof T & string)[]) {
  const missing = names.filter((name) => !raw[name]);
  if (missing.length === 0 || missing.length === names.length) return [];
  return missing.map((name) => ({
    variable: name,
    message: `must be set together with ${names.filter((n) => n !== name).join(' and ')}`,
  }));
}

/** A comma-separated setting as its items, trimmed, empty ones dropped; unset is none. */
export const commaList = optionalString.transform((s) =>
  s
    ? s
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : [],
);

/** true/false (also 1/0, yes/no, on/off), as JSON or as an environment variable's text. */
export const flag = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.union(
    [
      z.boolean(),
      z.enum(['true', '1', 'yes', 'on']).transform(() => true),
      z.enum(['false', '0', 'no', 'off']).transform(() => false),
    ],
    { error: 'must be true or false' },
  ),
);
