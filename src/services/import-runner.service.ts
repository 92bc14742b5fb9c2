// Reads an uploaded CSV back out of PostgreSQL chunk by chunk, parses it as a stream and writes
// it in batches, through one lane or, for a large file, two at once (import-lane.ts). Each
// batch and its lane's progress commit in one transaction, so a run that crashes resumes every
// lane exactly where its last batch ended: nothing is imported twice or skipped.
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
import type { Pool } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import { ImportsRepository, type ImportRecord } from '../db/repositories/imports.repository.js';
import { laneOf } from '../domain/import-lanes.js';
import { ImportLane, Superseded } from './import-lane.js';
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
      const run = { token: claimed.run_token!, processed };
      if (!(await imports.finish(importId, run))) throw new Superseded();
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
      await imports.finish(
        importId,
        { token: claimed.run_token!, processed: error.processed },
        error.message,
      );
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
 * and given to its lane (src/domain/import-lanes.ts); each lane writes its batches in its own
 * transactions. Records that an earlier, interrupted run already committed are passed over by
 * each lane's count.
 */
class ImportRecords {
  /** A reason the file cannot be read past here (the parser's own size limit). */
  fatal: string | undefined;
  private header: HeaderMap | undefined;
  private readonly lines = new LineTracker();
  private readonly lanes: ImportLane[];

  constructor(
    pool: Pool,
    imp: ImportRecord,
    status: 'confirmed' | 'unconfirmed',
    /** The one-cell record RecordGuard puts where an over-long record was. */
    private readonly tooLongMarker: string,
    private readonly batchSize: number,
    log: Logger,
  ) {
    this.lanes = Array.from(
      { length: Math.max(1, imp.lanes) },
      (_, i) => new ImportLane(pool, imp, i, status, log),
    );
  }

  /** What the lanes have committed, all runs together. */
  get committed(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.committed, 0);
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
    const taken = this.take(item, this.header);
    // Lines that name no valid address go to lane 0: their errors keep the file's order.
    const lane = this.lanes['row' in taken ? laneOf(taken.key, this.lanes.length) : 0]!;
    if (lane.toSkip > 0) {
      lane.toSkip--;
      return;
    }
    if ('row' in taken) lane.add(taken.key, taken.row);
    else lane.refuse(line, taken.reason);
    if (lane.pending >= this.batchSize) await lane.flush();
  }

  /** A record's row and its address key, or why it cannot be imported. */
  private take(
    item: Parsed,
    header: HeaderMap,
  ): { key: string; row: ImportRow } | { reason: string } {
    if (item.kind === 'record' && item.cells.length === 1 && item.cells[0] === this.tooLongMarker) {
      return { reason: `it is longer than ${MAX_RECORD_BYTES} bytes (skipped)` };
    }
    if (item.kind === 'unreadable') return { reason: describeCsvError(item.error) };
    const result = mapRow(item.cells, header);
    if (!result.ok) return { reason: result.reason };
    return { key: result.row.email.toLowerCase(), row: result.row };
  }

  /** Writes what every lane has gathered and waits until all of it has committed. */
  async flush(): Promise<void> {
    for (const lane of this.lanes) await lane.flush();
    await this.settle();
  }

  /** Waits for every lane's write, raising the first failure. */
  async settle(): Promise<void> {
    const outcomes = await Promise.allSettled(this.lanes.map((lane) => lane.settle()));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
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
