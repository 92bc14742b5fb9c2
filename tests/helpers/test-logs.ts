// When TEST_LOG_DIR is set (.ci/run sets it), every log line the suites write goes there too:
// the in-process services' loggers (at `info`, as in production) and the JSON output of every
// spawned process. tests/audit/logs.test.ts then checks that none of it holds a token, a
// secret or a full email address.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LogDestination } from '../../src/lib/logger.js';

export function testLogDir(): string | undefined {
  return process.env.TEST_LOG_DIR || undefined;
}

function fileFor(name: string): string | undefined {
  const dir = testLogDir();
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name.replace(/[^\w.-]/g, '_')}.log`);
}

/** A log destination appending to TEST_LOG_DIR/<name>.log, or undefined when not auditing. */
export function testLogDestination(name: string): LogDestination | undefined {
  const file = fileFor(name);
  if (!file) return undefined;
  return { write: (line: string) => appendFileSync(file, line) };
}

/** Keeps a chunk of a spawned process's output for the audit. */
export function keepProcessOutput(name: string, chunk: string): void {
  const file = fileFor(name);
  if (file && chunk) appendFileSync(file, chunk);
}
