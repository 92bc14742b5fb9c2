import type { AccountLinkPurpose } from '../../domain/account-links.js';
import type { Queryable } from '../pool.js';

export class AccountLinksRepository {
  constructor(private readonly db: Queryable) {}

  async create(
    hash: Buffer,
    purpose: AccountLinkPurpose,
    userId: number | null,
    expiresAt: Date,
  ): Promise<void> {
    await this.db.query(
      'INSERT INTO account_links (token_hash, purpose, user_id, expires_at) VALUES ($1, $2, $3, $4)',
      [hash, purpose, userId, expiresAt],
    );
  }

  /** Whether the link is live (signed, unused, not expired), without using it. */
  async live(
    hash: Buffer,
    purpose: AccountLinkPurpose,
    now: Date,
  ): Promise<{ userId: number | null } | undefined> {
    const { rows } = await this.db.query<{ user_id: number | null }>(
      `SELECT user_id FROM account_links
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
      [hash, purpose, now],
    );
    return rows[0] ? { userId: rows[0].user_id } : undefined;
  }

  /** Uses the link up: only one caller ever wins. */
  async use(
    hash: Buffer,
    purpose: AccountLinkPurpose,
    now: Date,
  ): Promise<{ userId: number | null } | undefined> {
    const { rows } = await this.db.query<{ user_id: number | null }>(
      `UPDATE account_links SET used_at = $3
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
       RETURNING user_id`,
      [hash, purpose, now],
    );
    return rows[0] ? { userId: rows[0].user_id } : undefined;
  }

  /** Earlier set-password links of a user stop working when a new one is issued or used. */
  async revokeForUser(userId: number, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE account_links SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`,
      [userId, now],
    );
  }
}
