// Reads an uploaded CSV back out of PostgreSQL chunk by chunk, parses it as a stream and writes
// it in batches. Each batch and the progress counters commit in one transaction, so a run that
// crashes resumes exactly where the last batch ended: nothing is imported twice or skipped.
import { randomBytes } from 'node:crypto';
import {
  MAX_RECORD_BYTES,
  PARSER_MAX_RECORD,
  StopParsing,
  createParser,
  describeCsvError,
  feed,
  type Parsed,
} from './import-parsing.js';
import {
  LineTracker,
  detectDelimiter,
  mapHeader,
  mapRow,
  type HeaderMap,
  type ImportRow,
} from '../domain/csv.js';
import { RecordGuard } from '../domain/csv-record-guard.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import {
  ImportsRepository,
  type BatchOutcome,
  type ImportRecord,
} from '../db/repositories/imports.repository.js';
import type { Logger } from '../lib/logger.js';

export const IMPORT_BATCH_SIZE = 2000;
/** How far the delimiter detection looks for the end of the header line. */
const MAX_HEADER_BYTES = 65_536;

export type ImportOutcome = 'done' | 'failed' | 'skipped';

export class ImportRunner {
  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly batchSize = IMPORT_BATCH_SIZE,
  ) {}

  async run(importId: number): Promise<ImportOutcome> {
    const imports = new ImportsRepository(this.pool);
    const claimed = await imports.claim(importId);
    if (!claimed) return 'skipped';
    const log = this.log.child({ importId });
    try {
      const processed = await this.process(claimed, log);
      await this.analyze(imports, log);
      if (!(await imports.finish(importId, processed))) throw new Superseded();
      log.info({ event: 'import_done' }, 'import finished');
      return 'done';
    } catch (error) {
      if (error instanceof Superseded) {
        // Another run of the same import (a job the queue thought stalled) got there first.
        log.warn({ event: 'import_superseded' }, 'import run superseded by another run');
        return 'skipped';
      }
      if (!(error instanceof ImportFailure)) throw error; // retried by the queue
      if (error.processed > claimed.processed) await this.analyze(imports, log);
      await imports.finish(importId, error.processed, error.message);
      log.warn({ event: 'import_failed', reason: error.message }, 'import failed');
      return 'failed';
    }
  }

  /** Statistics for what the import wrote; a failure here costs a slower plan, not the import. */
  private async analyze(imports: ImportsRepository, log: Logger): Promise<void> {
    try {
      await imports.analyzeTouched();
    } catch (error) {
      log.warn({ event: 'import_analyze_failed', err: error }, 'ANALYZE after the import failed');
    }
  }

  /** Imports every record after the ones already committed; returns the new processed count. */
  private async process(imp: ImportRecord, log: Logger): Promise<number> {
    const fail = (reason: string) => new ImportFailure(reason, imp.processed);
    if (imp.list_id === null) throw fail('the list was deleted');
    const list = await new ListsRepository(this.pool).findById(imp.list_id);
    if (!list) throw fail('the list was deleted');
    const status = list.optin === 'double' ? 'unconfirmed' : 'confirmed';

    const chunks = new ImportsRepository(this.pool);
    // The delimiter comes from the header line, which may reach into the next stored chunk.
    const head: Buffer[] = [];
    for (let seq = 0, bytes = 0; bytes <= MAX_HEADER_BYTES; seq++) {
      const chunk = await chunks.readChunk(imp.id, seq);
      if (!chunk) break;
      head.push(chunk);
      bytes += chunk.length;
      if (chunk.includes(10) || chunk.includes(13)) break;
    }
    if (head.length === 0) throw fail('the uploaded file is empty');
    const headText = Buffer.concat(head)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    const delimiter = detectDelimiter(headText.slice(0, headText.search(/\r|\n|$/)));

    // The parser is fed one stored chunk at a time and hands records and unreadable records to
    // `found` synchronously, in file order; they are written before the next chunk is read, so
    // memory holds about one chunk whatever the file size.
    const found: Parsed[] = [];
    const parser = createParser(delimiter, found);
    // Over-long records become a marker record, one per import run (no file can contain it).
    const guard = new RecordGuard(
      MAX_RECORD_BYTES,
      `bulletin-record-too-long-${randomBytes(12).toString('hex')}`,
      delimiter.charCodeAt(0),
    );
    const records = new ImportRecords(this.pool, imp, status, guard.marker, this.batchSize, log);
    try {
      let end = false;
      for (let seq = 0; !end && records.fatal === undefined; seq++) {
        const chunk = seq < head.length ? head[seq] : await chunks.readChunk(imp.id, seq);
        end = chunk === undefined;
        const guarded = chunk === undefined ? guard.end() : guard.push(chunk);
        let parseError = guarded.length > 0 ? await feed(parser, guarded) : undefined;
        if (!parseError && end) parseError = await feed(parser, undefined);
        if (parseError && !(parseError instanceof StopParsing)) throw parseError;
        for (const item of found.splice(0)) {
          await records.handle(item);
          if (records.fatal !== undefined) break;
        }
        if (parseError) break;
      }
      if (!records.hasHeader) throw records.fail('the file has no header row');
      await records.flush();
      await records.settle();
    } catch (error) {
      // No write of this run may still be going on when the queue runs the import again.
      await records.settle().catch(() => undefined);
      throw error;
    } finally {
      parser.destroy();
    }
    if (records.fatal) throw records.fail(records.fatal);
    return records.committed;
  }
}

/**
 * The records of one run, in file order: the header first, then each record counted, checked
 * and batched; a batch and the progress counters commit in one transaction. Records that an
 * earlier, interrupted run already committed are skipped by count.
 */
class ImportRecords {
  /** What this run has committed; every batch checks it is still what the row says. */
  committed: number;
  /** A reason the file cannot be read past here (the parser's own size limit). */
  fatal: string | undefined;
  private toSkip: number;
  private header: HeaderMap | undefined;
  private batch = emptyBatch();
  private rows = new Map<string, ImportRow>();
  private readonly lines = new LineTracker();
  /** The batch being written while the next one is parsed. */
  private writing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly imp: ImportRecord,
    private readonly status: 'confirmed' | 'unconfirmed',
    /** The one-cell record RecordGuard puts where an over-long record was. */
    private readonly tooLongMarker: string,
    private readonly batchSize: number,
    private readonly log: Logger,
  ) {
    this.committed = imp.processed;
    this.toSkip = imp.processed;
  }

  get hasHeader(): boolean {
    return this.header !== undefined;
  }

  fail(reason: string): ImportFailure {
    return new ImportFailure(reason, this.committed);
  }

  async handle(item: Parsed): Promise<void> {
    const line = this.lines.startOf(item.raw);
    if (!this.header) {
      if (item.kind === 'unreadable') {
        throw this.fail(`the header row cannot be read: ${describeCsvError(item.error)}`);
      }
      const mapped = mapHeader(item.cells);
      if (!mapped.ok) throw this.fail(mapped.reason);
      this.header = mapped.header;
      return;
    }
    if (item.kind === 'unreadable' && item.error?.code === 'CSV_MAX_RECORD_SIZE') {
      this.fatal = `line ${line} is longer than ${PARSER_MAX_RECORD} bytes; the file was read up to there`;
      return;
    }
    if (this.toSkip > 0) {
      this.toSkip--;
      return;
    }
    this.batch.processed++;
    const error = this.take(item, this.header);
    if (error) this.batch.errors.push({ line, reason: error });
    if (this.batch.processed >= this.batchSize) await this.flush();
  }

  /** Adds a record's row to the batch; returns why it cannot be imported, if it cannot. */
  private take(item: Parsed, header: HeaderMap): string | undefined {
    if (item.kind === 'record' && item.cells.length === 1 && item.cells[0] === this.tooLongMarker) {
      return `it is longer than ${MAX_RECORD_BYTES} bytes (skipped)`;
    }
    if (item.kind === 'unreadable') return describeCsvError(item.error);
    const result = mapRow(item.cells, header);
    if (!result.ok) return result.reason;
    // Within a batch the last row for an address wins; the earlier one counts as skipped.
    const key = result.row.email.toLowerCase();
    if (this.rows.has(key)) {
      this.rows.delete(key);
      this.batch.skipped++;
    }
    this.rows.set(key, result.row);
    return undefined;
  }

  /**
   * Starts writing the batch gathered so far. The worker parses the next batch while
   * PostgreSQL writes this one (the two take about the same time); batches still commit one
   * at a time and in file order, because each write waits for the one before.
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
      // Locks the import row first: a second run of the same import waits here, then sees
      // the progress moved and stops, instead of writing the same batch a second time.
      if (!(await repo.lockProgress(this.imp.id, this.committed))) throw new Superseded();
      const result = await repo.applyBatch(this.imp, currentRows, this.status);
      current.inserted += result.inserted;
      current.updated += result.updated;
      current.skipped += result.skipped;
      await repo.recordProgress(this.imp.id, current);
    });
    this.committed += current.processed;
    this.log.debug({ processed: this.committed }, 'import batch written');
  }
}

class ImportFailure extends Error {
  constructor(
    message: string,
    readonly processed: number,
  ) {
    super(message);
  }
}
/** This run lost the import to another run and must stop without writing anything more. */
class Superseded extends Error {}

function emptyBatch(): BatchOutcome {
  return { processed: 0, inserted: 0, updated: 0, skipped: 0, errors: [] };
}
