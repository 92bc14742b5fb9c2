// Receives an uploaded CSV: streams it into PostgreSQL in chunks (so a worker on any machine can
// read it, and memory stays flat), then queues the import. A file that is too large, has no
// email column or is cut off leaves nothing behind.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse/sync';
import { AppError, notFound } from '../domain/errors.js';
import { mapHeader, detectDelimiter } from '../domain/csv.js';
import type { Pool } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import { lanesFor } from '../domain/import-lanes.js';
import {
  ImportsRepository,
  type ImportMode,
  type ImportRecord,
} from '../db/repositories/imports.repository.js';
import { importJobId, type Queues } from '../queue/queues.js';

const CHUNK_BYTES = 1_048_576;
/** The importer looks this far for the end of the header row (ImportRunner does the same). */
const MAX_HEADER_CHARS = 65_536;

export class ImportsService {
  constructor(
    private readonly pool: Pool,
    private readonly queues: Queues,
    private readonly maxBytes: number,
  ) {}

  /** `declaredBytes` is the Content-Length, when the client sent one. */
  async receive(
    listId: number,
    mode: ImportMode,
    body: Readable,
    declaredBytes?: number,
  ): Promise<ImportRecord> {
    const list = await new ListsRepository(this.pool).findById(listId);
    if (!list) throw notFound('List', listId);
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) throw this.tooLarge();
    const repo = new ImportsRepository(this.pool);
    const imp = await repo.create(listId, mode);
    try {
      const { bytes, lines } = await this.store(repo, imp.id, body);
      // Lines after the header. Blank lines and quoted line breaks make this an estimate,
      // corrected when the import finishes.
      const total = Math.max(0, lines - 1);
      await repo.markQueued(imp.id, bytes, total, lanesFor(total));
    } catch (error) {
      body.resume(); // reads and drops whatever the client still sends
      await repo.delete(imp.id);
      if (!(error instanceof AppError) && body.readableAborted) {
        throw new AppError('malformed_request', 'The upload was interrupted; nothing was imported');
      }
      throw error;
    }
    // The answer is the import as accepted, read before the job exists: a worker of the same
    // process may take the job at once, and the upload's answer must not depend on that race.
    const accepted = (await repo.findById(imp.id))!;
    await this.enqueue(imp.id);
    return accepted;
  }

  /**
   * Queues the import. The job id is deterministic, so queuing twice is harmless; a job that
   * BullMQ already gave up on (kept as failed) is retried instead, since add() would ignore it.
   */
  async enqueue(importId: number): Promise<void> {
    const jobId = importJobId(importId);
    const existing = await this.queues.imports.getJob(jobId);
    if (existing && (await existing.isFailed())) {
      await existing.retry('failed');
      return;
    }
    await this.queues.imports.add('import', { importId }, { jobId });
  }

  /** Marks an import failed when its job has run out of attempts on unexpected errors. */
  async giveUp(importId: number, reason: string): Promise<void> {
    await new ImportsRepository(this.pool).fail(importId, `the import job kept failing: ${reason}`);
  }

  /** Uploads cut off by a crash leave 'receiving' rows: drop those older than an hour. */
  async dropStaleUploads(): Promise<number> {
    return new ImportsRepository(this.pool).dropStaleUploads();
  }

  async get(id: number): Promise<ImportRecord> {
    const imp = await new ImportsRepository(this.pool).findById(id);
    if (!imp || imp.status === 'receiving') throw notFound('Import', id);
    return imp;
  }

  private tooLarge(): AppError {
    return new AppError('payload_too_large', `The file is larger than ${this.maxBytes} bytes`);
  }

  private async store(repo: ImportsRepository, importId: number, body: Readable) {
    let bytes = 0;
    let breaks = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let lastByte = -1;
    let headerChecked = false;
    let head = '';
    const decoder = new StringDecoder('utf8');

    const write = async () => {
      if (pendingBytes === 0) return;
      await repo.appendChunk(importId, seq++, Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    };
    // Leaving the loop early must not destroy the request: that would cut the connection before
    // the 413 or 422 gets out (receive() discards the rest of the body instead).
    for await (const raw of body.iterator({ destroyOnReturn: false })) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
      bytes += chunk.length;
      if (bytes > this.maxBytes) throw this.tooLarge();
      if (bytes === chunk.length && isUtf16(chunk)) {
        throw new AppError(
          'unsupported_media_type',
          'The file is UTF-16 text; save it as CSV UTF-8 and upload it again',
        );
      }
      if (!headerChecked) {
        head += decoder.write(chunk);
        const end = head.search(/\r\n|\r|\n/);
        if (end >= 0 || head.length > MAX_HEADER_CHARS) {
          // Judged on a prefix, a header would be refused for a half column name ("repeats the
          // column c1"): say what is really wrong instead.
          if (end < 0 || end > MAX_HEADER_CHARS) {
            throw unprocessable(
              `the header row (line 1) is longer than ${MAX_HEADER_CHARS} characters`,
            );
          }
          const problem = checkHeader(head.slice(0, end));
          if (problem) throw problem;
          headerChecked = true;
          head = '';
        }
      }
      breaks += countBreaks(chunk, lastByte);
      lastByte = chunk[chunk.length - 1]!;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= CHUNK_BYTES) await write();
    }
    if (bytes === 0) {
      throw new AppError('unprocessable', 'The file is empty', {
        errors: [{ path: 'body', message: 'must be a CSV file with a header row' }],
      });
    }
    if (!headerChecked) {
      const problem = checkHeader(head + decoder.end());
      if (problem) throw problem;
    }
    await write();
    // A last line without a line break counts too.
    return { bytes, lines: breaks + (lastByte === 10 || lastByte === 13 ? 0 : 1) };
  }
}

/** Line breaks in a chunk: LF, CR LF (also across chunks) and a lone CR each count once. */
function countBreaks(chunk: Buffer, previousByte: number): number {
  let breaks = 0;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) {
    if ((i === 0 ? previousByte : chunk[i - 1]) !== 13) breaks++;
  }
  for (let i = chunk.indexOf(13); i >= 0; i = chunk.indexOf(13, i + 1)) breaks++;
  return breaks;
}

/** Returns the problem with the header line, if any; the importer checks it again in full. */
function checkHeader(line: string): AppError | undefined {
  const text = line.replace(/^\uFEFF/, '');
  if (text.includes('\u0000')) {
    // UTF-16 without a byte order mark, or a binary file such as an .xlsx workbook.
    return new AppError(
      'unsupported_media_type',
      'The file is not CSV UTF-8 text (its first line holds NUL bytes: UTF-16, or a ' +
        'spreadsheet file); save it as CSV UTF-8 and upload it again',
    );
  }
  const delimiter = detectDelimiter(text);
  let cells: string[];
  try {
    cells = parseCsv(text, { delimiter, relax_quotes: true, relax_column_count: true })[0] ?? [];
  } catch {
    // A header with a quoted line break cannot be read from its first line alone.
    cells = text.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  }
  const mapped = mapHeader(cells);
  return mapped.ok ? undefined : unprocessable(mapped.reason);
}

function unprocessable(reason: string): AppError {
  return new AppError('unprocessable', `The CSV cannot be imported: ${reason}`, {
    errors: [{ path: 'body', message: reason }],
  });
}

/** A UTF-16 byte order mark (what Excel's "Unicode text" writes) at the start of the upload. */
function isUtf16(first: Buffer): boolean {
  return (
    first.length >= 2 &&
    ((first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff))
  );
}
