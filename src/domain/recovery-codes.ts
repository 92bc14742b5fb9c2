// Recovery codes for two-factor sign-in: ten random codes shown once, each usable once. They
// carry 50 bits each, so a fast hash (SHA-256) is enough to store them.
import { createHash, randomBytes } from 'node:crypto';
import { base32Encode } from './totp.js';

export const RECOVERY_CODE_COUNT = 10;

/** `abcde-fghij`: ten base32 characters, easy to read aloud and type. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const text = base32Encode(randomBytes(7)).slice(0, 10).toLowerCase();
    return `${text.slice(0, 5)}-${text.slice(5)}`;
  });
}

/** Whether a typed second factor has the shape of a recovery code (not a 6-digit TOTP code). */
export const looksLikeRecoveryCode = (code: string) =>
  /^[a-z2-7]{5}-?[a-z2-7]{5}$/i.test(code.trim());

export function hashRecoveryCode(code: string): Buffer {
  const normal = code.trim().toLowerCase().replace(/-/g, '');
  return createHash('sha256').update(`recovery:${normal}`).digest();
}
