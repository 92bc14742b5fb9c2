import type { Queryable } from '../pool.js';
import type { ImportRow } from '../../domain/csv.js';

export type ImportStatus = 'receiving' | 'queued' | 'running' | 'done' | 'failed';
export type ImportMode = 'upsert' | 'skip-existing';

export interface ImportRecord {
  id: number;
  list_id: number | null;
  mode: ImportMode;
  status: ImportStatus;
  bytes: number;
  total: number;
  processed: number;
  inserted: number;
  updated: number;
  skipped: number;
  /** Of `skipped`: rows whose address was erased at its owner's request. */
  suppressed?: number;
  error_count: number;
  errors: { line: number; reason: string }[];
  failure: string | null;
  /** How many lanes write it (src/domain/import-lanes.ts), and each lane's committed records. */
  lanes: number;
  lane_processed: number[];
  /** The run that holds it now; set by claim(). */
  run_token: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface BatchOutcome {
  processed: number;
  inserted: number;
  updated: number;
  skipped: number;
  errors: { line: number; reason: string }[];
}

/** At most this many line errors are kept; error_count keeps counting past it. */
export const MAX_STORED_ERRORS = 1000;

/** True when the address was erased (see suppressionHash in subscribers.repository.ts). */
const SUPPRESSED = (email: string) =>
  `EXISTS (SELECT 1 FROM suppressions WHERE email_hash = sha256(convert_to(lower(${email}), 'UTF8')))`;

export class ImportsRepository {
  constructor(private readonly db: Queryable) {}

  async create(listId: number, mode: ImportMode): Promise<ImportRecord> {
    const { rows } = await this.db.query<ImportRecord>(
      `INSERT INTO imports (list_id, mode, status) VALUES ($1, $2, 'receiving') RETURNING *`,
      [listId, mode],
    );
    return fromRow(rows[0]!);
  }

  async appendChunk(importId: number, seq: number, data: Buffer): Promise<void> {
    await this.db.query('INSERT INTO import_chunks (import_id, seq, data) VALUES ($1, $2, $3)', [
      importId,
      seq,
      data,
    ]);
  }

  async readChunk(importId: number, seq: number): Promise<Buffer | undefined> {
    const { rows } = await this.db.query<{ data: Buffer }>(
      'SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2',
      [importId, seq],
    );
    return rows[0]?.data;
  }

  /** The upload is stored: its size, its record count and the lanes that will write it. */
  async markQueued(importId: number, bytes: number, total: number, lanes: number): Promise<void> {
    await this.db.query(
      `UPDATE imports SET status = 'queued', bytes = $2, total = $3, lanes = $4,
         lane_processed = array_fill(0::bigint, ARRAY[$4::int]), updated_at = now()
       WHERE id = $1 AND status = 'receiving'`,
      [importId, bytes, total, lanes],
    );
  }

  async delete(importId: number): Promise<void> {
    await this.db.query('DELETE FROM imports WHERE id = $1', [importId]);
  }

  /** Uploads cut off by a crash leave 'receiving' rows: those older than an hour go. */
  async dropStaleUploads(): Promise<number> {
    const result = await this.db.query(
      `DELETE FROM imports WHERE status = 'receiving' AND created_at < now() - interval '1 hour'`,
    );
    return result.rowCount ?? 0;
  }

  async findById(id: number): Promise<ImportRecord | undefined> {
    const { rows } = await this.db.query<ImportRecord>('SELECT * FROM imports WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  /**
   * Claims an import for processing with a new run token; a crashed run (status running) may be
   * claimed again, and a run still going loses the import at its next write.
   */
  async claim(id: number): Promise<ImportRecord | undefined> {
    const { rows } = await this.db.query<ImportRecord>(
      `UPDATE imports SET status = 'running', started_at = COALESCE(started_at, now()),
         run_token = gen_random_uuid(), updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
      [id],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /** Imports that should be in the queue (for re-enqueueing after Redis lost them). */
  async pending(): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT id FROM imports WHERE status IN ('queued', 'running') ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Upserts one batch of rows into subscribers and the list, and records consent for new
   * subscriptions. Existing subscriptions keep their status: an import never re-subscribes
   * someone who unsubscribed, and never changes a subscriber's deliverability status.
   * Addresses erased at their owner's request (a suppression holds their hash) are skipped and
   * counted in the import's `suppressed`.
   */
  async applyBatch(
    imp: Pick<ImportRecord, 'id' | 'list_id' | 'mode'>,
    rows: ImportRow[],
    subscriptionStatus: 'confirmed' | 'unconfirmed',
  ): Promise<{ inserted: number; updated: number; skipped: number; suppressed: number }> {
    if (rows.length === 0) return { inserted: 0, updated: 0, skipped: 0, suppressed: 0 };
    const emails = rows.map((r) => r.email);
    const names = rows.map((r) => r.name);
    const attrs = rows.map((r) => JSON.stringify(r.attributes));
    const conflict =
      imp.mode === 'upsert'
        ? `DO UPDATE SET
             name = CASE WHEN EXCLUDED.name = '' THEN subscribers.name ELSE EXCLUDED.name END,
             attributes = subscribers.attributes || EXCLUDED.attributes,
             updated_at = now()`
        : 'DO NOTHING';
    // One statement, one round trip: all CTEs see the same snapshot, so `existing` finds only
    // the addresses that were there before this batch, and `written` the rest. With `upsert`,
    // RETURNING already names every row, and the lookup by address (an index probe per row) is
    // skipped.
    const lookup =
      imp.mode === 'upsert'
        ? 'SELECT NULL::bigint AS id WHERE false'
        : `SELECT s.id FROM subscribers s WHERE s.email_key = ANY(ARRAY(SELECT lower(email) FROM allowed))`;
    const { rows: counts } = await this.db.query<{
      suppressed: number;
      inserted: number;
      touched: number;
    }>(
      `WITH input AS (
         SELECT * FROM unnest($2::text[], $3::text[], $4::jsonb[]) AS t(email, name, attributes)
       ), allowed AS (
         SELECT * FROM input t WHERE NOT ${SUPPRESSED('t.email')}
       ), written AS (
         INSERT INTO subscribers (email, name, attributes)
         SELECT email, name, attributes FROM allowed
         ON CONFLICT (email_key) ${conflict}
         RETURNING id, (xmax = 0) AS inserted
       ), existing AS (
         ${lookup}
       ), added AS (
         INSERT INTO subscriptions (list_id, subscriber_id, status)
         SELECT $5, id, $6 FROM (SELECT id FROM written UNION SELECT id FROM existing) targets
         ON CONFLICT (list_id, subscriber_id) DO NOTHING
         RETURNING subscriber_id, status
       ), consented AS (
         INSERT INTO consent_records (subscriber_id, list_id, action, status, source, detail)
         SELECT subscriber_id, $5, 'subscribe', status, 'import', jsonb_build_object('importId', $1::bigint)
         FROM added
       )
       SELECT (SELECT count(*) FROM input)::int - (SELECT count(*) FROM allowed)::int AS suppressed,
              (SELECT count(*) FROM written WHERE inserted)::int AS inserted,
              (SELECT count(*) FROM written)::int AS touched`,
      [imp.id, emails, names, attrs, imp.list_id, subscriptionStatus],
    );
    const { suppressed, inserted, touched } = counts[0]!;
    return { inserted, updated: touched - inserted, skipped: rows.length - touched, suppressed };
  }

  /**
   * Adds a lane's batch to the import's counters, only if the run still holds the import and the
   * lane's count is still the one it started from; false means another run moved it on. The
   * last statement of the batch's transaction: the import row is locked only while it commits,
   * so the lanes' transactions do not wait for one another.
   */
  async recordProgress(
    id: number,
    lane: { token: string; index: number; committed: number },
    batch: BatchOutcome & { suppressed: number },
  ): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE imports SET
         processed = processed + $2, inserted = inserted + $3, updated = updated + $4,
         skipped = skipped + $5, error_count = error_count + $6, suppressed = suppressed + $9,
         lane_processed[$10] = COALESCE(lane_processed[$10], 0) + $2,
         errors = CASE WHEN jsonb_array_length(errors) >= $8 THEN errors
                       ELSE errors || (SELECT COALESCE(jsonb_agg(e), '[]'::jsonb)
                                       FROM (SELECT e FROM jsonb_array_elements($7::jsonb) e
                                             LIMIT $8 - jsonb_array_length(errors)) x) END,
         total = GREATEST(total, processed + $2),
         updated_at = now()
       WHERE id = $1 AND status = 'running' AND run_token = $11 AND COALESCE(lane_processed[$10], 0) = $12`,
      [
        id,
        batch.processed,
        batch.inserted,
        batch.updated,
        batch.skipped,
        batch.errors.length,
        JSON.stringify(batch.errors),
        MAX_STORED_ERRORS,
        batch.suppressed,
        lane.index + 1,
        lane.token,
        lane.committed,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Fresh planner statistics for the tables an import writes. Autovacuum may be off or lagging;
   * a campaign drawn right after a large import must not be planned on the old figures.
   */
  async analyzeTouched(): Promise<void> {
    await this.db.query('ANALYZE subscribers, subscriptions, consent_records');
  }

  /**
   * Ends a run, only if it is still the run in charge (its token, with the progress it
   * committed), and drops the stored file with it.
   */
  async finish(
    id: number,
    run: { token: string; processed: number },
    failure?: string,
  ): Promise<boolean> {
    const { rows } = await this.db.query<{ ended: number }>(
      `WITH ended AS (
         UPDATE imports SET status = $2, failure = $3, finished_at = now(), updated_at = now(),
           total = CASE WHEN $2 = 'done' THEN processed ELSE total END
         WHERE id = $1 AND status = 'running' AND processed = $4 AND run_token = $5
         RETURNING id
       ), cleared AS (
         DELETE FROM import_chunks WHERE import_id IN (SELECT id FROM ended)
       )
       SELECT count(*)::int AS ended FROM ended`,
      [id, failure ? 'failed' : 'done', failure ?? null, run.processed, run.token],
    );
    return rows[0]!.ended > 0;
  }

  /** Ends an import that cannot go on, whatever its progress; keeps what was imported. */
  async fail(id: number, failure: string): Promise<void> {
    await this.db.query(
      `WITH ended AS (
         UPDATE imports SET status = 'failed', failure = $2, finished_at = now(), updated_at = now()
         WHERE id = $1 AND status IN ('queued', 'running') RETURNING id
       )
       DELETE FROM import_chunks WHERE import_id IN (SELECT id FROM ended)`,
      [id, failure],
    );
  }
}

/** pg reads bigint[] as strings. */
function fromRow(row: ImportRecord): ImportRecord {
  return { ...row, lane_processed: row.lane_processed.map(Number) };
}
