// `bulletin import <file.csv> --list <id>`: streams the file to the API (never read into memory),
// then follows the import the worker runs until it is done or failed, and prints the account.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { intervalMs, positiveInt } from '../args.js';
import { CliError, EXIT } from '../errors.js';
import { bytes, clean, fields } from '../format.js';
import { createProgress, RateMeter, type ProgressState } from '../progress.js';
import { apiClient, io, progressOnStderr } from '../runtime.js';
import { importRecord, type ImportRecord } from '../schemas.js';

/** Errors listed in the final account; the rest are counted. */
const SHOWN_ERRORS = 20;
/** Smaller files upload in a blink: no upload progress for them. */
const UPLOAD_PROGRESS_BYTES = 1024 * 1024;

interface ImportOptions {
  list: number;
  mode: 'upsert' | 'skip-existing';
  interval: number;
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new CliError(`${clean(file)} is not a file`);
    return info.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${clean(file)}: ${clean((error as Error).message)}`);
  }
}

async function upload(client: ApiClient, file: string, size: number, options: ImportOptions) {
  const progress =
    size >= UPLOAD_PROGRESS_BYTES
      ? createProgress({
          label: `upload ${path.basename(file)}`,
          unit: 'sent',
          rateUnit: '',
          formatValue: bytes,
          formatRate: (perSecond) => `${bytes(perSecond)}/s`,
          stream: io.err,
        })
      : undefined;
  const meter = new RateMeter();
  let sent = 0;
  async function* chunks() {
    for await (const chunk of createReadStream(file)) {
      sent += (chunk as Buffer).length;
      meter.add(Date.now(), sent);
      const perSecond = meter.perSecond();
      progress?.update({
        done: sent,
        total: size,
        rate: perSecond,
        etaSeconds: perSecond ? (size - sent) / perSecond : undefined,
      });
      yield chunk as Buffer;
    }
  }
  const body = Readable.toWeb(Readable.from(chunks())) as ReadableStream<Uint8Array>;
  try {
    return await client.upload(
      `/api/v1/lists/${options.list}/imports?mode=${options.mode}`,
      importRecord,
      body,
      'text/csv',
      size,
    );
  } finally {
    progress?.finish();
  }
}

function state(imp: ImportRecord, meter: RateMeter): ProgressState {
  const perSecond = imp.status === 'running' ? meter.perSecond() : undefined;
  // The total is an estimate (line breaks) until the import finishes.
  const total = Math.max(imp.total, imp.processed);
  return {
    done: imp.processed,
    total,
    rate: perSecond,
    etaSeconds:
      perSecond && total > imp.processed ? (total - imp.processed) / perSecond : undefined,
    note: imp.status === 'running' ? undefined : imp.status,
  };
}

export function importAccount(imp: ImportRecord, file: string, listId: number): string {
  const head =
    imp.status === 'failed'
      ? `Import ${imp.id} failed: ${clean(imp.failure ?? 'no reason given')}\n`
      : `Import ${imp.id} ${imp.status}: ${clean(path.basename(file))} into list ${listId}\n`;
  let text =
    head +
    fields([
      ['processed', imp.processed],
      ['inserted', imp.inserted],
      ['updated', imp.updated],
      ['skipped', imp.skipped],
      ['errors', imp.errorCount],
    ]);
  const shown = imp.errors.slice(0, SHOWN_ERRORS);
  if (shown.length > 0) {
    text += 'Errors:\n';
    for (const e of shown) text += `  line ${e.line}: ${clean(e.reason)}\n`;
    const more = imp.errorCount - shown.length;
    if (more > 0) text += `  … and ${more} more\n`;
  }
  return text;
}

async function follow(client: ApiClient, id: number, interval: number): Promise<ImportRecord> {
  const progress = progressOnStderr(`import ${id}`, 'rows', 'rows/s');
  const meter = new RateMeter();
  for (;;) {
    const imp = await client.get(`/api/v1/imports/${id}`, importRecord);
    if (imp.status === 'running') meter.add(Date.now(), imp.processed);
    if (imp.status === 'done' || imp.status === 'failed') {
      const last = state(imp, meter);
      progress.finish({ ...last, note: imp.status === 'failed' ? 'failed' : undefined });
      return imp;
    }
    progress.update(state(imp, meter));
    await sleep(interval);
  }
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import subscribers from a CSV file into a list, with progress')
    .argument(
      '<file.csv>',
      'CSV with a header row; email required, name optional, other columns become attributes',
    )
    .requiredOption('--list <id>', 'the list to import into', positiveInt)
    .addOption(
      new Option('--mode <mode>', 'what to do with subscribers who already exist')
        .choices(['upsert', 'skip-existing'])
        .default('upsert'),
    )
    .option('--interval <ms>', 'how often to poll the import', intervalMs, 500)
    .action(async (file: string, options: ImportOptions) => {
      const client = apiClient();
      const size = await fileSize(file);
      const created = await upload(client, file, size, options);
      const finished = await follow(client, created.id, options.interval);
      io.out.write(importAccount(finished, file, options.list));
      if (finished.status === 'failed') process.exitCode = EXIT.failure;
    });
}
