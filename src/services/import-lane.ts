// One lane of an import (src/domain/import-lanes.ts): its batch of rows, written in its own
// transaction on its own connection while the worker parses on. A lane's batches commit one at
// a time and in file order, each with the lane's progress, so a crashed run resumes every lane
// exactly where its last batch ended.
import { inTransaction, type Pool } from '../db/pool.js';
import {
  ImportsRepository,
  type BatchOutcome,
  type ImportRecord,
} from '../db/repositories/imports.repository.js';
import type { ImportRow } from '../domain/csv.js';
import type { Logger } from '../lib/logger.js';

/** This run lost the import to another run and must stop without writing anything more. */
export class Superseded extends Error {}

export class ImportLane {
  /** Records of this lane committed, by this run and the runs before it. */
  committed: number;
  /** Records an earlier run already committed, passed over by count. */
  toSkip: number;
  private batch = emptyBatch();
  private rows = new Map<string, ImportRow>();
  /** The batch being written while the next one is gathered. */
  private writing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly imp: ImportRecord,
    private readonly index: number,
    private readonly status: 'confirmed' | 'unconfirmed',
    private readonly log: Logger,
  ) {
    this.committed = imp.lane_processed[index] ?? 0;
    this.toSkip = this.committed;
  }

  /** Records counted into the batch being gathered. */
  get pending(): number {
    return this.batch.processed;
  }

  /** A record that cannot be imported: counted, with its line and why. */
  refuse(line: number, reason: string): void {
    this.batch.processed++;
    this.batch.errors.push({ line, reason });
  }

  /** A row to import; within a batch the last row for an address wins, the earlier is skipped. */
  add(key: string, row: ImportRow): void {
    this.batch.processed++;
    if (this.rows.has(key)) {
      this.rows.delete(key);
      this.batch.skipped++;
    }
    this.rows.set(key, row);
  }

  /**
   * Starts writing the batch gathered so far, after the lane's previous batch has committed.
   * The worker goes on parsing while PostgreSQL writes (the two take about the same time).
   */
  async flush(): Promise<void> {
    if (this.batch.processed === 0) return;
    const current = this.batch;
    const currentRows = [...this.rows.values()];
    this.batch = emptyBatch();
    this.rows = new Map();
    await this.settle();
    const write = this.write(current, currentRows);
    // A failed write is raised by the next settle(), not as an unhandled rejection meanwhile.
    write.catch(() => undefined);
    this.writing = write;
  }

  /** Waits for the batch being written, raising its failure. */
  async settle(): Promise<void> {
    const writing = this.writing;
    this.writing = undefined;
    await writing;
  }

  private async write(current: BatchOutcome, currentRows: ImportRow[]): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      const repo = new ImportsRepository(tx);
      const result = await repo.applyBatch(this.imp, currentRows, this.status);
      current.inserted += result.inserted;
      current.updated += result.updated;
      current.skipped += result.skipped;
      // Last: the import row is locked only while this commits. Another run that took the
      // import over (a job the queue thought stalled) makes this fail, and the batch rolls back.
      const lane = { token: this.imp.run_token!, index: this.index, committed: this.committed };
      const recorded = await repo.recordProgress(this.imp.id, lane, {
        ...current,
        suppressed: result.suppressed,
      });
      if (!recorded) throw new Superseded();
    });
    this.committed += current.processed;
    this.log.debug({ lane: this.index, processed: this.committed }, 'import batch written');
  }
}

function emptyBatch(): BatchOutcome {
  return { processed: 0, inserted: 0, updated: 0, skipped: 0, errors: [] };
}
