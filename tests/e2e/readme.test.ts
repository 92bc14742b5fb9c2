// The README's shell blocks, pasted in order into bash against a service started as
// `npm start` would (a fresh database, no SMTP_URL, the generated admin token): every command
// must succeed, and every `# →` line the README shows must be what the command printed (the
// parts before, between and after its "…" found in the output, in order).
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';
import {
  dropDatabase,
  deleteQueueKeys,
  REDIS_URL,
  testDatabaseUrl,
  uniqueName,
} from '../helpers/context.js';
import { killAll, startService, type ServiceProcess } from '../helpers/process.js';

const run = promisify(execFile);
const root = packageRoot();
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The shell block after `<!-- readme-test: name -->`. */
function block(name: string): string {
  const marker = readme.indexOf(`<!-- readme-test: ${name} -->`);
  expect(marker, name).toBeGreaterThan(0);
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  return match![1]!;
}

/** What the README says each block prints: the `# →` lines and their continuation lines. */
function expectations(text: string): string[] {
  const out: string[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const arrow = /^# → (.*)$/.exec(line);
    if (arrow) {
      if (current !== undefined) out.push(current);
      current = arrow[1]!;
    } else if (current !== undefined && /^#\s{3,}/.test(line)) {
      current += line.replace(/^#\s+/, '');
    } else if (current !== undefined) {
      out.push(current);
      current = undefined;
    }
  }
  if (current !== undefined) out.push(current);
  return out;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Every part of the expectation between "…" appears in the output, in order. */
function shows(output: string, expected: string): boolean {
  let at = 0;
  const text = squash(output);
  for (const part of squash(expected)
    .split('…')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const found = text.indexOf(part, at);
    if (found < 0) return false;
    at = found + part.length;
  }
  return true;
}

const dbName = uniqueName('bulletin_readme');
const prefix = uniqueName('readme');
let service: ServiceProcess;
let base: string;
let token: string;
const env = {
  NODE_ENV: 'development',
  DATABASE_URL: testDatabaseUrl(dbName),
  QUEUE_PREFIX: prefix,
  OUTBOX_DIR: path.join(root, 'var', `outbox-${prefix}`),
  RETRY_BASE_DELAY_MS: '200',
};

beforeAll(async () => {
  service = startService('all', env);
  base = await service.listening(60_000);
  token = /bt_[A-Za-z0-9_-]{20,}/.exec(service.stdout)![0];
}, 90_000);
afterAll(async () => {
  await killAll();
  await dropDatabase(dbName);
  await deleteQueueKeys(REDIS_URL, prefix);
  for (const file of ['readers.csv', 'list-1.csv']) rmSync(path.join(root, file), { force: true });
  rmSync(env.OUTBOX_DIR, { recursive: true, force: true });
});

/** Runs the blocks so far in one bash, as one terminal session would. */
async function paste(names: string[]): Promise<string> {
  const script = names
    .map(block)
    .join('\n')
    .replace(/^export BULLETIN_TOKEN=bt_….*$/m, `export BULLETIN_TOKEN=${token}`)
    .replaceAll('http://localhost:3000', base);
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      BULLETIN_URL: base,
      ...env,
    },
    timeout: 120_000,
    maxBuffer: 10_000_000,
  });
  return stdout;
}

describe('the README, pasted in order', () => {
  it('the first five minutes, the first newsletter and the schedule print what it shows', async () => {
    const names = ['five-minutes', 'first-newsletter', 'schedule'];
    const output = await paste(names);
    const wanted = names.flatMap((name) => expectations(block(name)));
    expect(wanted.length).toBeGreaterThanOrEqual(9);
    for (const expected of wanted) {
      expect(shows(output, expected), `${expected}\n---\n${output}`).toBe(true);
    }
  }, 240_000);
});
