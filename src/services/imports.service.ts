// Receives an uploaded CSV: streams it into PostgreSQL in chunks (so a worker on any machine can
// read it, and memory stays flat), then queues the import. A file that is too large, has no
// email column or is cut off leaves nothing behind.
import type { Readable } from 'node:stream';
import { AppError, notFound } from '../domain/errors.js';
import { mapHeader, detectDelimiter } from '../domain/csv.js';
import type { Pool } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import {
  ImportsRepository,
  type ImportMode,
  type ImportRecord,
} from '../db/repositories/imports.repository.js';
import { importJobId, type Queues } from '../queue/queues.js';

const CHUNK_BYTES = 1_048_576;

export class ImportsService {
  constructor(
    private readonly pool: Pool,
    private readonly queues: Queues,
    private readonly maxBytes: number,
  ) {}

  async receive(listId: number, mode: ImportMode, body: Readable): Promise<ImportRecord> {
    const list = await new ListsRepository(this.pool).findById(listId);
    if (!list) throw notFound('List', listId);
    const repo = new ImportsRepository(this.pool);
    const imp = await repo.create(listId, mode);
    try {
      const { bytes, lines } = await this.store(repo, imp.id, body);
      // Lines after the header; a last line without a newline counts too. Quoted line breaks
      // make this an estimate, corrected when the import finishes.
      await repo.markQueued(imp.id, bytes, Math.max(0, lines - 1));
    } catch (error) {
      await repo.delete(imp.id);
      throw error;
    }
    await this.enqueue(imp.id);
    return (await repo.findById(imp.id))!;
  }

  async enqueue(importId: number): Promise<void> {
    await this.queues.imports.add('import', { importId }, { jobId: importJobId(importId) });
  }

  async get(id: number): Promise<ImportRecord> {
    const imp = await new ImportsRepository(this.pool).findById(id);
    if (!imp || imp.status === 'receiving') throw notFound('Import', id);
    return imp;
  }

  private async store(repo: ImportsRepository, importId: number, body: Readable) {
    let bytes = 0;
    let lines = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let lastByte = -1;
    let headerChecked = false;
    let head = '';

    const write = async () => {
      if (pendingBytes === 0) return;
      await repo.appendChunk(importId, seq++, Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    };

    for await (const raw of body) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
      bytes += chunk.length;
      if (bytes > this.maxBytes) {
        body.destroy();
        throw new AppError('payload_too_large', `The file is larger than ${this.maxBytes} bytes`);
      }
      if (!headerChecked) {
        head += chunk.toString('utf8');
        const end = head.search(/\r?\n/);
        if (end >= 0 || head.length > 65_536) {
          checkHeader(head.slice(0, end >= 0 ? end : undefined));
          headerChecked = true;
          head = '';
        }
      }
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
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
    if (!headerChecked) checkHeader(head);
    if (lastByte !== 10) lines++;
    await write();
    return { bytes, lines };
  }
}

function checkHeader(line: string): void {
  const text = line.replace(/^\uFEFF/, '');
  const delimiter = detectDelimiter(text);
  const cells = text.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const mapped = mapHeader(cells);
  if (!mapped.ok) {
    throw new AppError('unprocessable', `The CSV cannot be imported: ${mapped.reason}`, {
      errors: [{ path: 'body', message: mapped.reason }],
    });
  }
}
