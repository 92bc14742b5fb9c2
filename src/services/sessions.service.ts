// Sign-in, sessions and sign-out (docs/accounts.md). Sessions live in PostgreSQL under the
// SHA-256 of the cookie's value; they end after SESSION_IDLE_MINUTES without use, after
// SESSION_MAX_HOURS in all, and at once when the user is disabled, deleted, changes password or
// has roles changed (UsersService ends them). A wrong address, a disabled account, a wrong
// password and a wrong or reused code all get the same answer after the same work.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { AppError } from '../domain/errors.js';
import { hashPassword, needsRehash, verifyPassword } from '../domain/passwords.js';
import { scopesOf } from '../domain/roles.js';
import {
  retryAfterSeconds,
  throttleKey,
  WINDOW_MS,
  MAX_FAILURES,
} from '../domain/sign-in-throttle.js';
import type { Pool } from '../db/pool.js';
import { SessionsRepository, type SessionLimits } from '../db/repositories/sessions.repository.js';
import { UsersRepository, type UserRow } from '../db/repositories/users.repository.js';
import type { Principal, SessionUser } from './principal.js';
import type { TwoFactorService } from './two-factor.service.js';

export type Clock = () => Date;

/** The one answer to every failed sign-in: nothing says which part was wrong. */
export const SIGN_IN_FAILED = 'The email address, password or code is not right';

/** A session is marked used at most this often (the idle limit is counted in minutes). */
const TOUCH_EVERY_MS = 30_000;

export interface SignInInput {
  email: string;
  password: string;
  totp?: string | undefined;
}

export interface ClientInfo {
  ip: string | undefined;
  userAgent: string | undefined;
}

export interface SignedIn {
  user: UserRow;
  csrfToken: string;
  /** The cookie's value: shown to the browser once, stored only as a hash. */
  sessionId: string;
}

export const hashSessionId = (id: string) => createHash('sha256').update(id, 'utf8').digest();

export class SessionsService {
  /** Verified against when the address is unknown, so that both cost the same. */
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly pool: Pool,
    private readonly config: Pick<Config, 'sessions' | 'require2fa'>,
    private readonly twoFactor: TwoFactorService,
    readonly clock: Clock = () => new Date(),
  ) {
    this.dummyHash = hashPassword(randomBytes(16).toString('hex'));
  }

  private limits(): SessionLimits {
    const now = this.clock().getTime();
    return {
      idleSince: new Date(now - this.config.sessions.idleMinutes * 60_000),
      createdSince: new Date(now - this.config.sessions.maxHours * 3_600_000),
    };
  }

  async signIn(input: SignInInput, client: ClientInfo): Promise<SignedIn> {
    const repo = new SessionsRepository(this.pool);
    const key = throttleKey(input.email);
    const now = this.clock();
    const failures = await repo.failuresSince(
      key,
      new Date(now.getTime() - WINDOW_MS),
      MAX_FAILURES,
    );
    const wait = retryAfterSeconds(failures, now);
    if (wait > 0) {
      throw new AppError(
        'rate_limited',
        'Too many failed sign-ins for this address; try again later',
        {
          retryAfter: wait,
        },
      );
    }
    const user = await new UsersRepository(this.pool).findByEmail(input.email.trim());
    const usable = user?.status === 'active' && user.password_hash ? user : undefined;
    const matches = await verifyPassword(
      input.password,
      usable?.password_hash ?? (await this.dummyHash),
    );
    if (!usable || !matches) return this.fail(repo, key, now);
    if (usable.totp_secret) {
      if (!input.totp) {
        throw new AppError('unauthorized', 'Enter the code from your authenticator app', {
          extra: { secondFactor: 'required' },
        });
      }
      if (!(await this.twoFactor.verify(usable, input.totp, now))) return this.fail(repo, key, now);
    }
    await repo.clearFailures(key);
    if (needsRehash(usable.password_hash!)) {
      await new UsersRepository(this.pool).update(usable.id, {
        passwordHash: await hashPassword(input.password),
      });
    }
    return this.start(usable, client);
  }

  private async fail(repo: SessionsRepository, key: string, now: Date): Promise<never> {
    await repo.recordFailure(key, now, new Date(now.getTime() - WINDOW_MS));
    throw new AppError('unauthorized', SIGN_IN_FAILED);
  }

  /** Opens a session for a user who has proven who they are. */
  async start(user: UserRow, client: ClientInfo): Promise<SignedIn> {
    const now = this.clock();
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    await new SessionsRepository(this.pool).create(
      hashSessionId(sessionId),
      user.id,
      csrfToken,
      now,
      client,
    );
    await new UsersRepository(this.pool).signedIn(user.id, now);
    return { user: { ...user, last_sign_in_at: now }, csrfToken, sessionId };
  }

  /** The principal of a live session cookie, or undefined (unknown, expired, user disabled). */
  async authenticate(sessionId: string): Promise<Principal | undefined> {
    const idHash = hashSessionId(sessionId);
    const repo = new SessionsRepository(this.pool);
    const found = await repo.findLive(idHash, this.limits());
    if (!found) return undefined;
    await repo.touch(idHash, this.clock(), TOUCH_EVERY_MS);
    const user = sessionUser(found.user, this.config.require2fa);
    return {
      scopes: user.mustEnrolSecondFactor ? [] : scopesOf(found.user.roles),
      actor: { type: 'user', id: user.id, name: user.name },
      session: { idHash, csrfToken: found.session.csrf_token },
      user,
    };
  }

  async signOut(idHash: Buffer): Promise<void> {
    await new SessionsRepository(this.pool).delete(idHash);
  }

  /** Ends every session of the user (or every other one): disabled, deleted, new password. */
  endAll(userId: number, except?: Buffer): Promise<number> {
    return new SessionsRepository(this.pool).deleteForUser(userId, except);
  }

  /** The scheduler's housekeeping. */
  deleteExpired(): Promise<number> {
    return new SessionsRepository(this.pool).deleteExpired(this.limits());
  }

  /** Constant-time comparison of the request's CSRF token with the session's. */
  static csrfMatches(given: unknown, expected: string): boolean {
    if (typeof given !== 'string' || given.length === 0 || given.length > 200) return false;
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(expected).digest();
    return timingSafeEqual(a, b);
  }
}

export function sessionUser(row: UserRow, require2fa: boolean): SessionUser {
  const totpEnabled = row.totp_secret !== null;
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles: row.roles,
    totpEnabled,
    mustEnrolSecondFactor: require2fa && row.roles.includes('admin') && !totpEnabled,
  };
}
