// Two-factor sign-in with TOTP (RFC 6238; docs/accounts.md). Enrolment makes a secret, shows it
// once (as text and a QR code) and turns it on only after a first correct code; then ten
// recovery codes are shown once. A code is accepted once: the last step used is kept per user
// and claimed with a conditional update.
import { randomBytes } from 'node:crypto';
import { renderSVG } from 'uqr';
import { AppError } from '../domain/errors.js';
import {
  hashRecoveryCode,
  looksLikeRecoveryCode,
  newRecoveryCodes,
} from '../domain/recovery-codes.js';
import { base32Decode, base32Encode, matchTotp, otpauthUri } from '../domain/totp.js';
import type { Pool } from '../db/pool.js';
import { UsersRepository, type UserRow } from '../db/repositories/users.repository.js';

export interface Enrolment {
  secret: string;
  otpauthUri: string;
  /** The otpauth URI as an SVG QR code. */
  qrSvg: string;
}

export class TwoFactorService {
  constructor(
    private readonly pool: Pool,
    private readonly issuer: string,
  ) {}

  private users() {
    return new UsersRepository(this.pool);
  }

  async begin(user: UserRow): Promise<Enrolment> {
    if (user.totp_secret) {
      throw new AppError('conflict', 'Two-factor sign-in is already on; turn it off first');
    }
    const secret = randomBytes(20);
    const text = base32Encode(secret);
    await this.users().setTotpPending(user.id, text);
    const uri = otpauthUri(this.issuer, user.email, secret);
    return { secret: text, otpauthUri: uri, qrSvg: renderSVG(uri) };
  }

  /** Turns two-factor sign-in on with a first code; answers the recovery codes, shown once. */
  async confirm(user: UserRow, code: string, now: Date): Promise<string[]> {
    const pending = user.totp_pending ? base32Decode(user.totp_pending) : undefined;
    if (!pending) {
      throw new AppError('conflict', 'Start the enrolment first (POST /api/v1/session/totp)');
    }
    const step = matchTotp(pending, code.trim(), Math.floor(now.getTime() / 1000));
    if (step === undefined) {
      throw new AppError('validation_failed', 'The code is not right', {
        errors: [{ path: 'code', message: 'does not match; check the time on your phone' }],
      });
    }
    const codes = newRecoveryCodes();
    const enabled = await this.users().enableTotp(
      user.id,
      user.totp_pending!,
      step,
      codes.map(hashRecoveryCode),
    );
    if (!enabled) throw new AppError('conflict', 'The enrolment changed meanwhile; start again');
    return codes;
  }

  async disable(user: UserRow): Promise<void> {
    await this.users().disableTotp(user.id);
  }

  /** Whether the code (TOTP or recovery) is right and unused; using it uses it up. */
  async verify(user: UserRow, code: string, now: Date): Promise<boolean> {
    if (!user.totp_secret) return false;
    if (looksLikeRecoveryCode(code)) {
      return this.users().useRecoveryCode(user.id, hashRecoveryCode(code));
    }
    const secret = base32Decode(user.totp_secret);
    if (!secret) return false;
    const step = matchTotp(secret, code.trim(), Math.floor(now.getTime() / 1000));
    if (step === undefined) return false;
    return this.users().claimTotpStep(user.id, step);
  }
}
