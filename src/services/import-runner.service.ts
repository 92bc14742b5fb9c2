// Reads an uploaded CSV back out of PostgreSQL chunk by chunk, parses it as a stream and writes
// it in batches. Each batch and the progress counters commit in one transaction, so a run that
// crashes resumes exactly where the last batch ended: nothing is imported twice or skipped.
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import {
  detectDelimiter,
  mapHeader,
  mapRow,
  type HeaderMap,
  type ImportRow,
} from '../domain/csv.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import {
  ImportsRepository,
  type BatchOutcome,
  type ImportRecord,
} from '../db/repositories/imports.repository.js';
import type { Logger } from '../lib/logger.js';

export const IMPORT_BATCH_SIZE = 2000;
/** A record this long means the file is not CSV we can read; the import stops with a reason. */
const MAX_RECORD_BYTES = 1_048_576;

export type ImportOutcome = 'done' | 'failed' | 'skipped';

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

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
      await this.process(claimed, log);
      await imports.finish(importId);
      log.info({ event: 'import_done' }, 'import finished');
      return 'done';
    } catch (error) {
      if (!(error instanceof ImportFailure)) throw error; // retried by the queue
      await imports.finish(importId, error.message);
      log.warn({ event: 'import_failed', reason: error.message }, 'import failed');
      return 'failed';
    }
  }

  private async process(imp: ImportRecord, log: Logger): Promise<void> {
    if (imp.list_id === null) throw new ImportFailure('the list was deleted');
    const list = await new ListsRepository(this.pool).findById(imp.list_id);
    if (!list) throw new ImportFailure('the list was deleted');
    const status = list.optin === 'double' ? 'unconfirmed' : 'confirmed';

    const chunks = new ImportsRepository(this.pool);
    const first = await chunks.readChunk(imp.id, 0);
    if (!first) throw new ImportFailure('the uploaded file is empty');
    const firstText = first.toString('utf8').replace(/^\uFEFF/, '');
    const delimiter = detectDelimiter(firstText.slice(0, firstText.search(/\r?\n|$/)));

    const source = Readable.from(readChunks(chunks, imp.id, first));
    const parser = source.pipe(
      parse({
        bom: true,
        delimiter,
        record_delimiter: ['\r\n', '\n', '\r'],
        relax_column_count: true,
        relax_quotes: true,
        skip_empty_lines: true,
        skip_records_with_error: true,
        max_record_size: MAX_RECORD_BYTES,
        info: true,
      }),
    );
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
        const result = await repo.applyBatch(imp, currentRows, status);
        current.inserted += result.inserted;
        current.updated += result.updated;
        current.skipped += result.skipped;
        await repo.recordProgress(imp.id, current);
      });
      log.debug({ processed: current.processed }, 'import batch written');
    };

    parser.on('skip', (error: CsvError & { lines?: number }) => {
      if (error.code === 'CSV_MAX_RECORD_SIZE') {
        fatal = `line ${error.lines ?? '?'} is longer than ${MAX_RECORD_BYTES} bytes; the file was read up to there`;
        source.destroy();
        return;
      }
      if (!header) return; // a broken header is reported below
      if (toSkip > 0) {
        toSkip--;
        return;
      }
      batch.processed++;
      batch.errors.push({ line: error.lines ?? 0, reason: describeCsvError(error) });
    });

    for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
      if (!header) {
        const mapped = mapHeader(parsed.record);
        if (!mapped.ok) throw new ImportFailure(mapped.reason);
        header = mapped.header;
        continue;
      }
      if (toSkip > 0) {
        toSkip--;
        continue;
      }
      batch.processed++;
      const result = mapRow(parsed.record, header);
      if (!result.ok) {
        batch.errors.push({ line: parsed.info.lines, reason: result.reason });
      } else {
        // Within a batch the last row for an address wins; the earlier one counts as skipped.
        const key = result.row.email.toLowerCase();
        if (rows.has(key)) {
          rows.delete(key);
          batch.skipped++;
        }
        rows.set(key, result.row);
      }
      if (batch.processed >= this.batchSize) await flush();
    }
    if (!header) throw new ImportFailure('the file has no header row');
    await flush();
    if (fatal) throw new ImportFailure(fatal);
  }
}

class ImportFailure extends Error {}

function emptyBatch(): BatchOutcome {
  return { processed: 0, inserted: 0, updated: 0, skipped: 0, errors: [] };
}

async function* readChunks(repo: ImportsRepository, importId: number, first: Buffer) {
  yield first;
  for (let seq = 1; ; seq++) {
    const chunk = await repo.readChunk(importId, seq);
    if (!chunk) return;
    yield chunk;
  }
}

function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field is followed by other characters';
    default:
      return `unreadable line (${error.code})`;
  }
}
