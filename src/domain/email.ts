// Address rules. We accept what a newsletter can safely deliver to, not everything RFC 5322
// allows: quoted local parts, comments, route addresses and whitespace are refused, because
// they are how a second recipient gets smuggled into an SMTP envelope or a header.
import { domainToASCII, domainToUnicode } from 'node:url';

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

export type EmailResult = { ok: true; email: string } | { ok: false; reason: string };

/** Trims, checks and normalises an address: the domain is lower-cased (and IDNs punycoded). */
export function normalizeEmail(input: unknown): EmailResult {
  if (typeof input !== 'string') return { ok: false, reason: 'must be a string' };
  const value = input.trim();
  if (value === '') return { ok: false, reason: 'is required' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    return { ok: false, reason: 'must not contain control characters or line breaks' };
  }
  if (value.length > 254) return { ok: false, reason: 'must be at most 254 characters' };
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) {
    return { ok: false, reason: 'must look like name@example.org' };
  }
  const local = value.slice(0, at);
  const rawDomain = value.slice(at + 1);
  if (local.includes('@') || local.includes('"') || /[\s(),:;<>[\\\]]/.test(local)) {
    return { ok: false, reason: 'must be a single plain address (no quotes, comments or spaces)' };
  }
  if (local.length > 64) return { ok: false, reason: 'local part must be at most 64 characters' };
  if (!LOCAL_PART.test(local)) {
    return { ok: false, reason: 'local part has characters that are not allowed' };
  }
  if (/[\s(),:;<>[\\\]"]/.test(rawDomain)) {
    return { ok: false, reason: 'domain has characters that are not allowed' };
  }
  // domainToASCII lower-cases and applies IDNA (UTS #46); it returns '' for invalid names.
  const domain = domainToASCII(rawDomain);
  if (domain === '' || domain.length > 253) return { ok: false, reason: 'domain is not valid' };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(labels.at(-1)!)) {
    return { ok: false, reason: 'domain is not valid' };
  }
  if (lookalikeDomain(domain)) {
    return {
      ok: false,
      reason: 'domain mixes scripts or imitates a Latin name (a look-alike of another domain)',
    };
  }
  const email = `${local}@${domain}`;
  // Checked again after punycoding: an IDN domain can grow well past its Unicode length.
  if (email.length > 254) return { ok: false, reason: 'must be at most 254 characters' };
  return { ok: true, email };
}

// Homographs (UTS #39 in miniature). Letters of these three scripts pass for one another.
const SCRIPTS: [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];
/** Cyrillic and Greek letters that look like Latin ones (from Unicode's confusables list). */
const PASSES_FOR_LATIN = new Set([...'аеорсухіјѕԁԛԝһӏүвкмнтьпαβεικνορτυχϲϳ']);

/**
 * An internationalised domain is refused when one label mixes Latin, Cyrillic and Greek letters
 * (`pаypal` with a Cyrillic а), or when a Cyrillic or Greek label is made only of letters that
 * pass for Latin ones under a Latin top-level domain (`аррӏе.test`): the cases browsers show as
 * punycode. Domains written in one script (`почта.рф`, `bücher.example`) are accepted.
 */
function lookalikeDomain(asciiDomain: string): boolean {
  if (!asciiDomain.includes('xn--')) return false;
  const labels = domainToUnicode(asciiDomain).split('.');
  const latinTld = /^[a-z]+$/.test(labels.at(-1) ?? '');
  return labels.some((label) => {
    const letters = [...label].filter((ch) => /\p{L}/u.test(ch));
    const scripts = SCRIPTS.filter(([, re]) => letters.some((ch) => re.test(ch))).map(([n]) => n);
    if (scripts.length > 1) return true;
    return (
      latinTld &&
      (scripts[0] === 'Cyrillic' || scripts[0] === 'Greek') &&
      letters.every((ch) => PASSES_FOR_LATIN.has(ch.toLowerCase()))
    );
  });
}

/** Masks an address for logs: "ja***@example.org". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return '***';
  return `${email.slice(0, Math.min(2, at))}***${email.slice(at)}`;
}
