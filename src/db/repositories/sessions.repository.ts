import type { Queryable } from '../pool.js';
import { UsersRepository, type UserRow } from './users.repository.js';

export interface SessionRow {
  id_hash: Buffer;
  user_id: number;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
}

export interface SessionLimits {
  /** Sessions last seen before this are idle and over. */
  idleSince: Date;
  /** Sessions created before this are over whatever their use. */
  createdSince: Date;
}

export class SessionsRepository {
  constructor(private readonly db: Queryable) {}

  async create(
    idHash: Buffer,
    userId: number,
    csrfToken: string,
    at: Date,
    client: { ip: string | undefined; userAgent: string | undefined },
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, $4, $5, $6)`,
      [idHash, userId, csrfToken, at, client.ip ?? null, client.userAgent?.slice(0, 500) ?? null],
    );
  }

  /** The live session and its active user; an expired session is deleted on the way. */
  async findLive(
    idHash: Buffer,
    limits: SessionLimits,
  ): Promise<{ session: SessionRow; user: UserRow } | undefined> {
    const { rows } = await this.db.query<SessionRow>(
      'SELECT id_hash, user_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = $1',
      [idHash],
    );
    const session = rows[0];
    if (!session) return undefined;
    const user = await new UsersRepository(this.db).findById(session.user_id);
    const live =
      user?.status === 'active' &&
      session.last_seen_at > limits.idleSince &&
      session.created_at > limits.createdSince;
    if (!live) {
      await this.delete(idHash);
      return undefined;
    }
    return { session, user };
  }

  /** Marks the session used (at most every `everyMs`, to spare a write per request). */
  async touch(idHash: Buffer, at: Date, everyMs: number): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET last_seen_at = $2
       WHERE id_hash = $1 AND last_seen_at < $2::timestamptz - make_interval(secs => $3)`,
      [idHash, at, everyMs / 1000],
    );
  }

  async delete(idHash: Buffer): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  /** Ends every session of a user, or every other one when `except` is given. */
  async deleteForUser(userId: number, except?: Buffer): Promise<number> {
    const result = await this.db.query(
      'DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)',
      [userId, except ?? null],
    );
    return result.rowCount ?? 0;
  }

  /** Removes sessions over their limits (the scheduler's housekeeping). */
  async deleteExpired(limits: SessionLimits): Promise<number> {
    const result = await this.db.query(
      'DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2',
      [limits.idleSince, limits.createdSince],
    );
    return result.rowCount ?? 0;
  }

  /** Failed sign-ins for the address since `since`, oldest first (at most `limit`). */
  async failuresSince(emailKey: string, since: Date, limit: number): Promise<Date[]> {
    const { rows } = await this.db.query<{ failed_at: Date }>(
      `SELECT failed_at FROM sign_in_failures WHERE email_key = $1 AND failed_at > $2
       ORDER BY failed_at DESC LIMIT $3`,
      [emailKey, since, limit],
    );
    return rows.map((r) => r.failed_at).reverse();
  }

  async recordFailure(emailKey: string, at: Date, forgetBefore: Date): Promise<void> {
    await this.db.query('DELETE FROM sign_in_failures WHERE email_key = $1 AND failed_at <= $2', [
      emailKey,
      forgetBefore,
    ]);
    await this.db.query('INSERT INTO sign_in_failures (email_key, failed_at) VALUES ($1, $2)', [
      emailKey,
      at,
    ]);
  }

  async clearFailures(emailKey: string): Promise<void> {
    await this.db.query('DELETE FROM sign_in_failures WHERE email_key = $1', [emailKey]);
  }
}
