// Password hashing for user accounts: scrypt, a
// memory-hard function, with a random 16-byte salt per hash and its parameters stored in the
// hash itself, so that they can be raised later without invalidating older hashes.
//
//   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<key, base64url>
import {
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

export const PASSWORD_MIN_LENGTH = 12;

/** N = 2^15, r = 8: 32 MiB and some tens of milliseconds per hash on a current core. */
const DEFAULTS = { log2N: 15, r: 8, p: 1 };
const KEY_BYTES = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

const optionsOf = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N,
  r,
  p,
  // Node refuses more than 32 MiB by default; allow what N and r need, with room.
  maxmem: 256 * r * 2 ** log2N,
});

export async function hashPassword(password: string, params = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, optionsOf(params.log2N, params.r, params.p));
  return [
    'scrypt',
    params.log2N,
    params.r,
    params.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** True when `password` matches `stored`; a malformed hash never matches. Constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every(Number.isInteger) || log2N < 10 || log2N > 20 || r < 1 || p < 1) {
    return false;
  }
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 16 || expected.length !== KEY_BYTES) return false;
  const key = await scrypt(password, salt, optionsOf(log2N, r, p));
  return timingSafeEqual(key, expected);
}

/** Whether a hash was made with weaker parameters than today's (rehash at the next sign-in). */
export function needsRehash(stored: string): boolean {
  const [, log2N, r, p] = stored.split('$').map(Number);
  return log2N !== DEFAULTS.log2N || r !== DEFAULTS.r || p !== DEFAULTS.p;
}
