import { createHash } from 'node:crypto';
import type { Queryable } from '../pool.js';

export type SubscriberStatus = 'active' | 'bounced' | 'complained' | 'blocklisted';
export type SubscriptionStatus = 'unconfirmed' | 'confirmed' | 'unsubscribed';
export type ConsentSource = 'api' | 'import' | 'form' | 'preferences' | 'one-click' | 'webhook';

export interface SubscriberRow {
  id: number;
  uuid: string;
  email: string;
  name: string;
  attributes: Record<string, unknown>;
  status: SubscriberStatus;
  created_at: Date;
  updated_at: Date;
}

export interface MembershipRow {
  subscriber_id: number;
  list_id: number;
  list_uuid: string;
  list_name: string;
  status: SubscriptionStatus;
  created_at: Date;
  updated_at: Date;
}

export interface SubscriberFilter {
  after?: number | undefined;
  limit: number;
  listId?: number | undefined;
  subscriptionStatus?: SubscriptionStatus | undefined;
  status?: SubscriberStatus | undefined;
  q?: string | undefined;
}

export interface ConsentContext {
  source: ConsentSource;
  ip?: string | undefined;
  userAgent?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class SubscribersRepository {
  constructor(private readonly db: Queryable) {}

  /** Inserts unless the email exists; undefined means a subscriber with that email exists. */
  async insert(fields: {
    email: string;
    name: string;
    attributes: Record<string, unknown>;
    status: SubscriberStatus;
  }): Promise<SubscriberRow | undefined> {
    const { rows } = await this.db.query<SubscriberRow>(
      `INSERT INTO subscribers (email, name, attributes, status) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email_key) DO NOTHING RETURNING *`,
      [fields.email, fields.name, JSON.stringify(fields.attributes), fields.status],
    );
    return rows[0];
  }

  async findById(id: number): Promise<SubscriberRow | undefined> {
    const { rows } = await this.db.query<SubscriberRow>('SELECT * FROM subscribers WHERE id = $1', [
      id,
    ]);
    return rows[0];
  }

  async findByEmail(email: string): Promise<SubscriberRow | undefined> {
    const { rows } = await this.db.query<SubscriberRow>(
      'SELECT * FROM subscribers WHERE email_key = lower($1)',
      [email],
    );
    return rows[0];
  }

  async page(filter: SubscriberFilter): Promise<SubscriberRow[]> {
    const { rows } = await this.db.query<SubscriberRow>(
      `SELECT s.* FROM subscribers s
       WHERE ($1::bigint IS NULL OR s.id > $1)
         AND ($2::text IS NULL OR s.status = $2)
         AND (($3::bigint IS NULL AND $4::text IS NULL) OR EXISTS (
               SELECT 1 FROM subscriptions x
               WHERE x.subscriber_id = s.id AND ($3::bigint IS NULL OR x.list_id = $3)
                 AND ($4::text IS NULL OR x.status = $4)))
         AND ($5::text IS NULL OR s.email ILIKE $5 OR s.name ILIKE $5)
       ORDER BY s.id LIMIT $6`,
      [
        filter.after ?? null,
        filter.status ?? null,
        filter.listId ?? null,
        filter.subscriptionStatus ?? null,
        filter.q ? likePattern(filter.q) : null,
        filter.limit,
      ],
    );
    return rows;
  }

  async update(
    id: number,
    fields: Partial<{
      email: string;
      name: string;
      attributes: Record<string, unknown>;
      status: SubscriberStatus;
    }>,
  ): Promise<SubscriberRow | undefined> {
    const { rows } = await this.db.query<SubscriberRow>(
      `UPDATE subscribers SET
         email = COALESCE($2, email),
         name = COALESCE($3, name),
         attributes = COALESCE($4::jsonb, attributes),
         status = COALESCE($5, status),
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [
        id,
        fields.email ?? null,
        fields.name ?? null,
        fields.attributes ? JSON.stringify(fields.attributes) : null,
        fields.status ?? null,
      ],
    );
    return rows[0];
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM subscribers WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  async memberships(subscriberIds: number[]): Promise<MembershipRow[]> {
    const { rows } = await this.db.query<MembershipRow>(
      `SELECT x.subscriber_id, x.list_id, l.uuid AS list_uuid, l.name AS list_name, x.status,
              x.created_at, x.updated_at
       FROM subscriptions x JOIN lists l ON l.id = x.list_id
       WHERE x.subscriber_id = ANY($1::bigint[]) ORDER BY x.subscriber_id, x.list_id`,
      [subscriberIds],
    );
    return rows;
  }

  /**
   * Adds the subscriber to lists. A list's default status comes from its opt-in; `status`, when
   * given, also changes existing subscriptions. Returns the subscriptions that changed and
   * records consent for each, in the same statement.
   */
  async subscribe(
    subscriberId: number,
    listIds: number[],
    status: SubscriptionStatus | undefined,
    consent: ConsentContext,
  ): Promise<{ list_id: number; status: SubscriptionStatus }[]> {
    const { rows } = await this.db.query<{ list_id: number; status: SubscriptionStatus }>(
      `WITH wanted AS (
         SELECT l.id AS list_id,
                COALESCE($3::text, CASE l.optin WHEN 'double' THEN 'unconfirmed' ELSE 'confirmed' END)
                  AS status
         FROM lists l WHERE l.id = ANY($2::bigint[])
       ), changed AS (
         INSERT INTO subscriptions (list_id, subscriber_id, status)
         SELECT list_id, $1, status FROM wanted
         ON CONFLICT (list_id, subscriber_id) DO UPDATE
           SET status = EXCLUDED.status, updated_at = now()
           WHERE $3::text IS NOT NULL AND subscriptions.status <> EXCLUDED.status
         RETURNING list_id, status, (xmax = 0) AS inserted
       ), recorded AS (
         INSERT INTO consent_records (subscriber_id, list_id, action, status, source, ip, user_agent, detail)
         SELECT $1, list_id,
                CASE WHEN inserted THEN 'subscribe'
                     WHEN status = 'unsubscribed' THEN 'unsubscribe'
                     WHEN status = 'confirmed' THEN 'confirm'
                     ELSE 'subscribe' END,
                status, $4, $5::inet, $6, $7::jsonb
         FROM changed
       )
       SELECT list_id, status FROM changed ORDER BY list_id`,
      [
        subscriberId,
        listIds,
        status ?? null,
        consent.source,
        consent.ip ?? null,
        consent.userAgent ?? null,
        consent.detail ? JSON.stringify(consent.detail) : null,
      ],
    );
    return rows;
  }

  async removeFromLists(
    subscriberId: number,
    listIds: number[],
    consent: ConsentContext,
  ): Promise<number[]> {
    const { rows } = await this.db.query<{ list_id: number }>(
      `WITH removed AS (
         DELETE FROM subscriptions WHERE subscriber_id = $1 AND list_id = ANY($2::bigint[])
         RETURNING list_id, status
       ), recorded AS (
         INSERT INTO consent_records (subscriber_id, list_id, action, status, source, ip, user_agent)
         SELECT $1, list_id, 'remove', status, $3, $4::inet, $5 FROM removed
       )
       SELECT list_id FROM removed ORDER BY list_id`,
      [subscriberId, listIds, consent.source, consent.ip ?? null, consent.userAgent ?? null],
    );
    return rows.map((r) => r.list_id);
  }

  async recordStatusChange(
    subscriberId: number,
    status: SubscriberStatus,
    consent: ConsentContext,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO consent_records (subscriber_id, action, status, source, ip, user_agent)
       VALUES ($1, 'status', $2, $3, $4::inet, $5)`,
      [subscriberId, status, consent.source, consent.ip ?? null, consent.userAgent ?? null],
    );
  }

  // ---- Public pages (subscribe form, confirm, unsubscribe, preferences, erasure) ----

  async findByUuid(uuid: string): Promise<SubscriberRow | undefined> {
    const { rows } = await this.db.query<SubscriberRow>(
      'SELECT * FROM subscribers WHERE uuid = $1',
      [uuid],
    );
    return rows[0];
  }

  /**
   * Locks the subscriber's row for the rest of the transaction: changes to one subscriber's
   * subscriptions then happen one after another (five parallel one-click POSTs change once).
   */
  async lockById(id: number): Promise<SubscriberRow | undefined> {
    const { rows } = await this.db.query<SubscriberRow>(
      'SELECT * FROM subscribers WHERE id = $1 FOR UPDATE',
      [id],
    );
    return rows[0];
  }

  /** Inserts a subscriber, or locks the existing one with that email. */
  async insertOrLock(
    email: string,
    name: string,
  ): Promise<{ row: SubscriberRow; inserted: boolean }> {
    const inserted = await this.insert({ email, name, attributes: {}, status: 'active' });
    if (inserted) return { row: inserted, inserted: true };
    const { rows } = await this.db.query<SubscriberRow>(
      'SELECT * FROM subscribers WHERE email_key = lower($1) FOR UPDATE',
      [email],
    );
    return { row: rows[0]!, inserted: false };
  }

  /**
   * Moves existing subscriptions from one of the `from` statuses to `to` (all lists when
   * `listIds` is null), recording consent for each change; returns what changed. Never inserts.
   */
  async updateSubscriptions(
    subscriberId: number,
    listIds: number[] | null,
    to: SubscriptionStatus,
    from: SubscriptionStatus[],
    consent: ConsentContext,
  ): Promise<{ list_id: number; previous: SubscriptionStatus }[]> {
    const { rows } = await this.db.query<{ list_id: number; previous: SubscriptionStatus }>(
      `WITH before AS (
         SELECT list_id, status FROM subscriptions
         WHERE subscriber_id = $1 AND ($2::bigint[] IS NULL OR list_id = ANY($2::bigint[]))
           AND status = ANY($4::text[]) AND status <> $3
       ), changed AS (
         UPDATE subscriptions x SET status = $3, updated_at = now()
         FROM before b
         WHERE x.subscriber_id = $1 AND x.list_id = b.list_id AND x.status = b.status
         RETURNING x.list_id, b.status AS previous
       ), recorded AS (
         INSERT INTO consent_records (subscriber_id, list_id, action, status, source, ip, user_agent, detail)
         SELECT $1, list_id,
                CASE WHEN $3 = 'unsubscribed' THEN 'unsubscribe'
                     WHEN $3 = 'confirmed' AND previous = 'unconfirmed' THEN 'confirm'
                     ELSE 'subscribe' END,
                $3, $5, $6::inet, $7, $8::jsonb
         FROM changed
       )
       SELECT list_id, previous FROM changed ORDER BY list_id`,
      [
        subscriberId,
        listIds,
        to,
        from,
        consent.source,
        consent.ip ?? null,
        consent.userAgent ?? null,
        consent.detail ? JSON.stringify(consent.detail) : null,
      ],
    );
    return rows;
  }

  /**
   * Claims the right to send a double opt-in confirmation mail: true at most once per
   * `intervalHours` per subscriber (the claim is the send time).
   */
  async claimConfirmationMail(subscriberId: number, intervalHours: number): Promise<boolean> {
    const result = await this.db.query(
      `INSERT INTO confirmation_mails (subscriber_id) VALUES ($1)
       ON CONFLICT (subscriber_id) DO UPDATE SET sent_at = now()
         WHERE confirmation_mails.sent_at <= now() - make_interval(hours => $2::int)`,
      [subscriberId, intervalHours],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Gives a claim back (the mail could not be sent), so the next form post may try again. */
  async releaseConfirmationMail(subscriberId: number): Promise<void> {
    await this.db.query('DELETE FROM confirmation_mails WHERE subscriber_id = $1', [subscriberId]);
  }

  async isSuppressed(email: string): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM suppressions WHERE email_hash = $1', [
      suppressionHash(email),
    ]);
    return (rowCount ?? 0) > 0;
  }

  async unsuppress(email: string): Promise<void> {
    await this.db.query('DELETE FROM suppressions WHERE email_hash = $1', [suppressionHash(email)]);
  }

  /**
   * Erasure: deletes the subscriber with everything that names them (subscriptions, consent
   * records and events go with the row; events that only carry the address are deleted too;
   * ledger rows lose the link) and keeps only the hash of the address as a suppression.
   */
  async erase(row: Pick<SubscriberRow, 'id' | 'email'>): Promise<void> {
    await this.db.query('DELETE FROM events WHERE lower(email) = lower($1)', [row.email]);
    await this.db.query('DELETE FROM subscribers WHERE id = $1', [row.id]);
    await this.db.query(
      `INSERT INTO suppressions (email_hash, reason) VALUES ($1, 'erased')
       ON CONFLICT (email_hash) DO NOTHING`,
      [suppressionHash(row.email)],
    );
  }
}

/**
 * What a suppression keeps of an address: SHA-256 of the normalised address, lower-cased
 * (emails are unique case-insensitively). Normalised addresses are ASCII (IDNs punycoded), so
 * PostgreSQL's sha256(convert_to(lower(email), 'UTF8')) gives the same bytes.
 */
export function suppressionHash(email: string): Buffer {
  return createHash('sha256').update(email.toLowerCase(), 'utf8').digest();
}
