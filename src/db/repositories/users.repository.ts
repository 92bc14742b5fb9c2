import type { Queryable } from '../pool.js';
import { SetClause } from '../set-clause.js';

export interface UserRow {
  id: number;
  email: string;
  name: string;
  roles: string[];
  status: 'active' | 'disabled';
  password_hash: string | null;
  totp_secret: string | null;
  totp_last_step: string | null;
  totp_pending: string | null;
  recovery_codes: Buffer[];
  test_addresses: string[];
  last_sign_in_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface UserChanges {
  email?: string;
  name?: string;
  roles?: string[];
  status?: 'active' | 'disabled';
  passwordHash?: string;
}

const UNIQUE_VIOLATION = '23505';

export class UsersRepository {
  constructor(private readonly db: Queryable) {}

  /** The new row, or undefined when the address is taken (whatever its letter case). */
  async create(
    email: string,
    name: string,
    roles: string[],
    passwordHash: string | null,
  ): Promise<UserRow | undefined> {
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users (email, name, roles, password_hash) VALUES ($1, $2, $3, $4)
         RETURNING *`,
        [email, name, roles, passwordHash],
      );
      return rows[0];
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
      throw error;
    }
  }

  async findById(id: number, forUpdate = false): Promise<UserRow | undefined> {
    const { rows } = await this.db.query<UserRow>(
      `SELECT * FROM users WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    const { rows } = await this.db.query<UserRow>(
      'SELECT * FROM users WHERE lower(email) = lower($1)',
      [email],
    );
    return rows[0];
  }

  async page(after: number | undefined, limit: number): Promise<UserRow[]> {
    const { rows } = await this.db.query<UserRow>(
      `SELECT * FROM users WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [after ?? null, limit],
    );
    return rows;
  }

  /** Serialises first-account setups (until the transaction ends): the count decides. */
  async lockFirstAccount(): Promise<void> {
    await this.db.query("SELECT pg_advisory_xact_lock(hashtext('bulletin:first-admin'))");
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    return rows[0]!.n;
  }

  /** Active users holding one of these roles (the approvers, the admins). */
  async activeWithRoles(roles: string[]): Promise<UserRow[]> {
    const { rows } = await this.db.query<UserRow>(
      `SELECT * FROM users WHERE status = 'active' AND roles && $1 ORDER BY id`,
      [roles],
    );
    return rows;
  }

  /** The changed row; undefined when the user is gone; 'duplicate' when the address is taken. */
  async update(id: number, changes: UserChanges): Promise<UserRow | undefined | 'duplicate'> {
    const set = new SetClause([id])
      .set('email', changes.email)
      .set('name', changes.name)
      .set('roles', changes.roles)
      .set('status', changes.status)
      .set('password_hash', changes.passwordHash)
      .expr('updated_at = now()');
    try {
      const { rows } = await this.db.query<UserRow>(
        `UPDATE users SET ${set.sql} WHERE id = $1 RETURNING *`,
        set.params,
      );
      return rows[0];
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return 'duplicate';
      throw error;
    }
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM users WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  async signedIn(id: number, at: Date): Promise<void> {
    await this.db.query('UPDATE users SET last_sign_in_at = $2 WHERE id = $1', [id, at]);
  }

  /** Claims a TOTP step: only a step later than the last accepted one wins (a code works once). */
  async claimTotpStep(id: number, step: number): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE users SET totp_last_step = $2
       WHERE id = $1 AND totp_secret IS NOT NULL
         AND (totp_last_step IS NULL OR totp_last_step < $2)`,
      [id, step],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Uses up one recovery code (by its hash); false when it is not an unused code. */
  async useRecoveryCode(id: number, hash: Buffer): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE users SET recovery_codes = array_remove(recovery_codes, $2)
       WHERE id = $1 AND $2 = ANY (recovery_codes)`,
      [id, hash],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async setTestAddresses(id: number, emails: string[]): Promise<void> {
    await this.db.query('UPDATE users SET test_addresses = $2 WHERE id = $1', [id, emails]);
  }

  async setTotpPending(id: number, secret: string | null): Promise<void> {
    await this.db.query('UPDATE users SET totp_pending = $2 WHERE id = $1', [id, secret]);
  }

  /** Turns the pending secret on, with its first accepted step and the recovery codes. */
  async enableTotp(id: number, secret: string, step: number, codes: Buffer[]): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE users SET totp_secret = $2, totp_last_step = $3, recovery_codes = $4,
         totp_pending = NULL, updated_at = now()
       WHERE id = $1 AND totp_pending = $2`,
      [id, secret, step, codes],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async disableTotp(id: number): Promise<void> {
    await this.db.query(
      `UPDATE users SET totp_secret = NULL, totp_last_step = NULL, totp_pending = NULL,
         recovery_codes = '{}', updated_at = now() WHERE id = $1`,
      [id],
    );
  }
}
