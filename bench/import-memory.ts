// `node --expose-gc --import tsx bench/import-memory.ts [--rows N]`
//
// An import's memory (docs/performance.md, "Memory over a long send"): N rows (default
// 1,000,000) stored as an upload would store them, then imported by the service's ImportRunner
// in this process, sampling every 5 s the resident set and the heap, and with --expose-gc the
// live heap after a full collection. A runner that held rows would grow with the count. Its
// own database, dropped afterwards; no HTTP, no other processes.
import { parseArgs } from 'node:util';
import { createPool, type Pool } from '../src/db/pool.js';
import { ImportsRepository } from '../src/db/repositories/imports.repository.js';
import { ImportRunner } from '../src/services/import-runner.service.js';
import { lanesFor } from '../src/domain/import-lanes.js';
import { createLogger } from '../src/lib/logger.js';
import { round, withScratchDatabase } from './support.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const rows = Number(args.rows);
const mb = (bytes: number) => round(bytes / 1e6);

/** Stores the CSV in 1 MB chunks, as the upload route does, and queues the import. */
async function store(imports: ImportsRepository, listId: number): Promise<number> {
  const imp = await imports.create(listId, 'upsert');
  let lines: string[] = ['email,name,city\n'];
  let size = 0;
  let seq = 0;
  for (let i = 0; i < rows; i++) {
    const line = `person.${i}@example${i % 50}.org,Person ${i},Lyon\n`;
    lines.push(line);
    size += line.length;
    if (size > 1_000_000) {
      await imports.appendChunk(imp.id, seq++, Buffer.from(lines.join('')));
      lines = [];
      size = 0;
    }
  }
  await imports.appendChunk(imp.id, seq, Buffer.from(lines.join('')));
  await imports.markQueued(imp.id, 0, rows, lanesFor(rows));
  return imp.id;
}

async function main(): Promise<void> {
  await withScratchDatabase('bulletin_impmem', async (url) => {
    const pool = createPool(url, 4);
    try {
      await measure(pool);
    } finally {
      await pool.end();
    }
  });
}

async function measure(pool: Pool): Promise<void> {
  const list = await pool.query<{ id: number }>(
    `INSERT INTO lists (name) VALUES ('M') RETURNING id`,
  );
  const imports = new ImportsRepository(pool);
  const importId = await store(imports, list.rows[0]!.id);
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: Record<string, number>[] = [];
  const timer = setInterval(() => {
    void imports.findById(importId).then((imp) => {
      const m = process.memoryUsage();
      gc?.();
      samples.push({
        processed: imp?.processed ?? 0,
        rssMb: mb(m.rss),
        heapUsedMb: mb(m.heapUsed),
        ...(gc ? { liveHeapMb: mb(process.memoryUsage().heapUsed) } : {}),
      });
    });
  }, 5000);
  const started = performance.now();
  const outcome = await new ImportRunner(pool, createLogger('warn')).run(importId);
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ rows, outcome, seconds: round(seconds, 1), rowsPerSec: round(rows / seconds, 0), samples }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
