// Reads an uploaded CSV back out of PostgreSQL chunk by chunk, parses it as a stream and writes
// it in batches. Each batch and the progress counters commit in one transaction, so a run that
// crashes resumes exactly where the last batch ended: nothing is imported twice or skipped.
import { randomBytes } from 'node:crypto';
import { parse, type CsvError, type Parser } from 'csv-parse';
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
/** A record longer than this is a line error (RecordGuard drops it); the import goes on. */
const MAX_RECORD_BYTES = 1_048_576;
/** The parser's own limit, a safety net past the guard's: never reached by a guarded file. */
const PARSER_MAX_RECORD = 2 * MAX_RECORD_BYTES;
/** How far the delimiter detection looks for the end of the header line. */
const MAX_HEADER_BYTES = 65_536;

export type ImportOutcome = 'done' | 'failed' | 'skipped';

/** What the parser found, in file order: a record, or one it could not read. */
type Parsed =
  | { kind: 'record'; cells: string[]; raw: string }
  | { kind: 'unreadable'; error: CsvError | undefined; raw: string };

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
    // What this run has committed; every batch checks it is still what the row says.
    let committed = imp.processed;
    const fail = (reason: string) => new ImportFailure(reason, committed);
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
    const lines = new LineTracker();
    // Records already committed by an earlier, interrupted run of this import.
    let toSkip = imp.processed;
    let header: HeaderMap | undefined;
    let batch = emptyBatch();
    let rows = new Map<string, ImportRow>();
    let fatal: string | undefined;

    const flush = async () => {
      if (batch.processed === 0) return;
      const current = batch;
      const currentRows = [...rows.values()];
      batch = emptyBatch();
      rows = new Map();
      await inTransaction(this.pool, async (tx) => {
        const repo = new ImportsRepository(tx);
        // Locks the import row first: a second run of the same import waits here, then sees
        // the progress moved and stops, instead of writing the same batch a second time.
        if (!(await repo.lockProgress(imp.id, committed))) throw new Superseded();
        const result = await repo.applyBatch(imp, currentRows, status);
        current.inserted += result.inserted;
        current.updated += result.updated;
        current.skipped += result.skipped;
        await repo.recordProgress(imp.id, current);
      });
      committed += current.processed;
      log.debug({ processed: committed }, 'import batch written');
    };

    const handle = async (item: Parsed) => {
      const line = lines.startOf(item.raw);
      if (!header) {
        if (item.kind === 'unreadable') {
          throw fail(`the header row cannot be read: ${describeCsvError(item.error)}`);
        }
        const mapped = mapHeader(item.cells);
        if (!mapped.ok) throw fail(mapped.reason);
        header = mapped.header;
        return;
      }
      if (item.kind === 'unreadable' && item.error?.code === 'CSV_MAX_RECORD_SIZE') {
        fatal = `line ${line} is longer than ${PARSER_MAX_RECORD} bytes; the file was read up to there`;
        return;
      }
      if (toSkip > 0) {
        toSkip--;
        return;
      }
      batch.processed++;
      if (item.kind === 'record' && item.cells.length === 1 && item.cells[0] === guard.marker) {
        batch.errors.push({
          line,
          reason: `it is longer than ${MAX_RECORD_BYTES} bytes (skipped)`,
        });
      } else if (item.kind === 'unreadable') {
        batch.errors.push({ line, reason: describeCsvError(item.error) });
      } else {
        const result = mapRow(item.cells, header);
        if (!result.ok) {
          batch.errors.push({ line, reason: result.reason });
        } else {
          // Within a batch the last row for an address wins; the earlier one counts as skipped.
          const key = result.row.email.toLowerCase();
          if (rows.has(key)) {
            rows.delete(key);
            batch.skipped++;
          }
          rows.set(key, result.row);
        }
      }
      if (batch.processed >= this.batchSize) await flush();
    };

    try {
      let end = false;
      for (let seq = 0; !end && fatal === undefined; seq++) {
        const chunk = seq < head.length ? head[seq] : await chunks.readChunk(imp.id, seq);
        end = chunk === undefined;
        const guarded = chunk === undefined ? guard.end() : guard.push(chunk);
        let parseError = guarded.length > 0 ? await feed(parser, guarded) : undefined;
        if (!parseError && end) parseError = await feed(parser, undefined);
        if (parseError && !(parseError instanceof StopParsing)) throw parseError;
        for (const item of found.splice(0)) {
          await handle(item);
          if (fatal !== undefined) break;
        }
        if (parseError) break;
      }
    } finally {
      parser.destroy();
    }
    if (!header) throw fail('the file has no header row');
    await flush();
    if (fatal) throw fail(fatal);
    return committed;
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
/** Thrown from inside the parser to make it stop at a record it cannot continue past. */
class StopParsing extends Error {}

function createParser(delimiter: string, found: Parsed[]): Parser {
  const parser = parse({
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: PARSER_MAX_RECORD,
    raw: true,
    on_record: (record: unknown) => {
      const { record: cells, raw } = record as { record: string[]; raw: string };
      found.push({ kind: 'record', cells, raw });
      return null; // nothing goes through the stream: `found` keeps the order
    },
    on_skip: (error, raw) => {
      found.push({ kind: 'unreadable', error, raw: raw ?? '' });
      // Past this size the parser would keep reporting the same record character by character.
      if (error?.code === 'CSV_MAX_RECORD_SIZE') throw new StopParsing();
      return undefined;
    },
  });
  // Errors arrive through the write callbacks; without a listener they would crash the process.
  parser.on('error', () => undefined);
  parser.resume();
  return parser;
}

/** Writes one chunk (or the end) into the parser; resolves with the error it stopped on, if any. */
function feed(parser: Parser, chunk: Buffer | undefined): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const done = (error?: Error | null) => resolve(error ?? undefined);
    if (chunk) parser.write(chunk, done);
    else parser.end(done);
  });
}

function emptyBatch(): BatchOutcome {
  return { processed: 0, inserted: 0, updated: 0, skipped: 0, errors: [] };
}

function describeCsvError(error: CsvError | undefined): string {
  switch (error?.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed (the rest of the file was read as part of it)';
    case 'CSV_MAX_RECORD_SIZE':
      return `it is longer than ${PARSER_MAX_RECORD} bytes`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field is followed by other characters';
    default:
      return `unreadable line (${error?.code ?? 'unknown error'})`;
  }
}
