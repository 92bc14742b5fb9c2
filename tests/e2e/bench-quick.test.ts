// `npm run bench -- --quick` as CI runs it: the benchmark completes on this machine and writes
// the JSON it promises (docs/contract.md §8). Only completion and shape are checked, never a timing:
// speed is the benchmark's to report, not a test's to assert.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'bulletin-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const positive = expect.any(Number) as unknown;

describe('npm run bench -- --quick', () => {
  it('completes and writes the JSON report with every figure', async () => {
    const file = path.join(dir, 'bench.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', file],
      { cwd: packageRoot(), maxBuffer: 10 * 1024 * 1024, timeout: 170_000 },
    );
    expect(stdout).toContain('end to end');
    const report = JSON.parse(readFileSync(file, 'utf8'));
    expect(report).toMatchObject({
      raw: { msgsPerSec: positive },
      endToEnd: { msgsPerSec: positive, recipients: 2000 },
      ratio: positive,
      audienceDrawSeconds: positive,
      import: { rowsPerSec: positive },
      apiLatencyMs: { p99: positive },
      mime: { valid: true, problems: [] },
    });
    for (const name of ['api', 'worker-1', 'raw', 'sink'])
      expect(report.peakRssMb[name], name).toBeGreaterThan(0);
    for (const figure of [report.raw.msgsPerSec, report.endToEnd.msgsPerSec, report.ratio])
      expect(figure).toBeGreaterThan(0);
  }, 180_000);
});
