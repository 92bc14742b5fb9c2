// Accounts (docs/accounts.md): people with roles, managed by admins. A user made without a
// password gets a one-time set-password link (72 hours), in the answer and by mail. Disabling a
// user, changing their roles or password, or deleting them ends their sessions at once. The
// last active admin can be neither demoted, disabled nor deleted: someone must keep the keys.
import type { Config } from '../config.js';
import {
  ACCOUNT_LINK_TTL_HOURS,
  issueAccountToken,
  verifyAccountToken,
  type AccountLinkPurpose,
} from '../domain/account-links.js';
import { normalizeEmail } from '../domain/email.js';
import { AppError, notFound, validation } from '../domain/errors.js';
import { hashPassword, verifyPassword } from '../domain/passwords.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { AccountLinksRepository } from '../db/repositories/account-links.repository.js';
import {
  UsersRepository,
  type UserChanges,
  type UserRow,
} from '../db/repositories/users.repository.js';
import type { Logger } from '../lib/logger.js';
import type { MailTransport } from '../mail/transport.js';
import { sendNotice } from './account-mail.js';
import type { Clock, SessionsService } from './sessions.service.js';

export interface NewUser {
  email: string;
  name: string;
  roles: string[];
  password?: string | undefined;
}

export interface UserEdit {
  email?: string | undefined;
  name?: string | undefined;
  roles?: string[] | undefined;
  status?: 'active' | 'disabled' | undefined;
  password?: string | undefined;
}

const PATHS: Record<AccountLinkPurpose, string> = {
  'set-password': '/admin/password/',
  setup: '/admin/setup/',
};

function checkedEmail(email: string): string {
  const result = normalizeEmail(email);
  if (!result.ok) throw validation([{ path: 'email', message: result.reason }]);
  return result.email;
}

const duplicate = () =>
  new AppError('duplicate_email', 'A user with this email address exists', {
    errors: [{ path: 'email', message: 'is taken by another user' }],
  });

export class UsersService {
  constructor(
    private readonly pool: Pool,
    private readonly config: Pick<Config, 'publicUrl' | 'mailFrom' | 'org'>,
    private readonly transport: MailTransport,
    private readonly sessions: SessionsService,
    private readonly secrets: () => string[],
    private readonly log: Logger,
    private readonly clock: Clock = () => new Date(),
  ) {}

  private repo(db: Queryable = this.pool) {
    return new UsersRepository(db);
  }

  async create(input: NewUser): Promise<{ user: UserRow; setPasswordUrl?: string }> {
    const hash = input.password ? await hashPassword(input.password) : null;
    const user = await this.repo().create(checkedEmail(input.email), input.name, input.roles, hash);
    if (!user) throw duplicate();
    if (hash) return { user };
    const setPasswordUrl = await this.issueLink('set-password', user.id);
    await this.mailSetPassword(user, setPasswordUrl);
    return { user, setPasswordUrl };
  }

  async get(id: number): Promise<UserRow> {
    const user = await this.repo().findById(id);
    if (!user) throw notFound('User', id);
    return user;
  }

  page(after: number | undefined, limit: number): Promise<UserRow[]> {
    return this.repo().page(after, limit);
  }

  count(): Promise<number> {
    return this.repo().count();
  }

  async update(id: number, edit: UserEdit): Promise<UserRow> {
    const changes: UserChanges = {
      email: edit.email === undefined ? undefined : checkedEmail(edit.email),
      name: edit.name,
      roles: edit.roles ? [...new Set(edit.roles)] : undefined,
      status: edit.status,
      passwordHash: edit.password ? await hashPassword(edit.password) : undefined,
    };
    const { before, after } = await inTransaction(this.pool, async (tx) => {
      const current = await this.repo(tx).findById(id, true);
      if (!current) throw notFound('User', id);
      const staysAdmin =
        (changes.roles ?? current.roles).includes('admin') &&
        (changes.status ?? current.status) === 'active';
      if (!staysAdmin) await this.keepOneAdmin(tx, current);
      const updated = await this.repo(tx).update(id, changes);
      if (updated === 'duplicate') throw duplicate();
      return { before: current, after: updated! };
    });
    const rolesChanged =
      changes.roles !== undefined &&
      [...before.roles].sort().join() !== [...after.roles].sort().join();
    if (rolesChanged || after.status === 'disabled' || changes.passwordHash !== undefined) {
      await this.sessions.endAll(id);
    }
    return after;
  }

  async delete(id: number): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      const current = await this.repo(tx).findById(id, true);
      if (!current) throw notFound('User', id);
      await this.keepOneAdmin(tx, current);
      await this.repo(tx).delete(id); // its sessions and links go with it (ON DELETE CASCADE)
    });
  }

  /** Refuses to leave no active admin: `user` is about to stop being one. */
  private async keepOneAdmin(tx: Queryable, user: UserRow): Promise<void> {
    if (!user.roles.includes('admin') || user.status !== 'active') return;
    const admins = await this.repo(tx).activeWithRoles(['admin']);
    if (admins.every((a) => a.id === user.id)) {
      throw new AppError('conflict', 'This is the last active admin; make another admin first');
    }
  }

  /** Changes a password knowing the current one; ends every session of the user. */
  async changePassword(user: UserRow, current: string, next: string): Promise<void> {
    await this.checkPassword(user, current, 'currentPassword');
    await this.repo().update(user.id, { passwordHash: await hashPassword(next) });
    await this.sessions.endAll(user.id);
  }

  /** The test addresses the console offers again next time. */
  rememberTestAddresses(id: number, emails: string[]): Promise<void> {
    return this.repo().setTestAddresses(id, emails.slice(0, 10));
  }

  /** Refuses (400 on `field`) a password that is not the user's. */
  async checkPassword(user: UserRow, password: string, field: string): Promise<void> {
    if (!user.password_hash || !(await verifyPassword(password, user.password_hash))) {
      throw validation([{ path: field, message: 'is not your current password' }]);
    }
  }

  /** A new one-time link; earlier set-password links of the user stop working. */
  async issueLink(purpose: AccountLinkPurpose, userId: number | null): Promise<string> {
    const now = this.clock();
    const { token, hash } = issueAccountToken(this.secrets()[0]!, purpose);
    const links = new AccountLinksRepository(this.pool);
    if (userId !== null) await links.revokeForUser(userId, now);
    const expires = new Date(now.getTime() + ACCOUNT_LINK_TTL_HOURS[purpose] * 3_600_000);
    await links.create(hash, purpose, userId, expires);
    return `${this.config.publicUrl}${PATHS[purpose]}${token}`;
  }

  /** A new set-password link for the user, mailed to them. */
  async resetLink(id: number): Promise<string> {
    const user = await this.get(id);
    const url = await this.issueLink('set-password', user.id);
    await this.mailSetPassword(user, url);
    return url;
  }

  /** The setup link while no user exists (printed by `npm start`), else undefined. */
  async setupLinkIfNoUser(): Promise<string | undefined> {
    if ((await this.count()) > 0) return undefined;
    return this.issueLink('setup', null);
  }

  /** Whether a link would work now (for showing its form), without using it. */
  async linkIsLive(purpose: AccountLinkPurpose, token: string): Promise<boolean> {
    const hash = verifyAccountToken(this.secrets(), purpose, token);
    if (!hash) return false;
    const live = await new AccountLinksRepository(this.pool).live(hash, purpose, this.clock());
    if (live && purpose === 'setup') return (await this.count()) === 0;
    return live !== undefined;
  }

  /** Uses a set-password link: sets the password, ends the user's sessions. */
  async setPasswordWithLink(token: string, password: string): Promise<UserRow> {
    const hash = verifyAccountToken(this.secrets(), 'set-password', token);
    if (!hash) throw notFound('Link', 'set-password');
    const passwordHash = await hashPassword(password);
    const used = await new AccountLinksRepository(this.pool).use(
      hash,
      'set-password',
      this.clock(),
    );
    if (!used || used.userId === null) throw notFound('Link', 'set-password');
    const user = await this.repo().update(used.userId, { passwordHash });
    if (!user || user === 'duplicate') throw notFound('User', used.userId);
    await this.sessions.endAll(user.id);
    return user;
  }

  /** Uses the setup link to make the first admin; refused once any user exists. */
  async createFirstAdmin(token: string, input: Omit<NewUser, 'roles'>): Promise<UserRow> {
    const hash = verifyAccountToken(this.secrets(), 'setup', token);
    if (!hash) throw notFound('Link', 'setup');
    const email = checkedEmail(input.email);
    const passwordHash = await hashPassword(input.password ?? '');
    return inTransaction(this.pool, async (tx) => {
      // One setup at a time; the count decides.
      await this.repo(tx).lockFirstAccount();
      const used = await new AccountLinksRepository(tx).use(hash, 'setup', this.clock());
      if (!used || (await this.repo(tx).count()) > 0) throw notFound('Link', 'setup');
      const user = await this.repo(tx).create(email, input.name, ['admin'], passwordHash);
      if (!user) throw duplicate();
      return user;
    });
  }

  private async mailSetPassword(user: UserRow, url: string): Promise<void> {
    try {
      await sendNotice(this.transport, this.config, {
        to: { name: user.name, email: user.email },
        subject: `Your ${this.config.org.name} Bulletin account`,
        lines: [
          `An account was made for you on ${this.config.org.name}'s Bulletin.`,
          `Choose your password with the link below. It works once, for ${ACCOUNT_LINK_TTL_HOURS['set-password']} hours.`,
        ],
        link: { url, label: 'Choose a password' },
      });
    } catch (error) {
      this.log.error(
        { event: 'account_mail_failed', userId: user.id, err: error },
        'set-password link not mailed',
      );
    }
  }
}
