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
      relay: { latencyMs: 50, connections: report.params.smtpPoolSize, ratio: positive },
      audienceDrawSeconds: positive,
      import: { rowsPerSec: positive },
      apiLatencyMs: { p99: positive },
      mime: { valid: true, problems: [] },
    });
    // expect.any(Number) accepts 0 and NaN: every figure must be a real, positive measurement.
    const figures: [string, unknown][] = [
      ['raw.msgsPerSec', report.raw.msgsPerSec],
      ['endToEnd.msgsPerSec', report.endToEnd.msgsPerSec],
      ['ratio', report.ratio],
      ['relay.raw.msgsPerSec', report.relay.raw.msgsPerSec],
      ['relay.endToEnd.msgsPerSec', report.relay.endToEnd.msgsPerSec],
      ['relay.ratio', report.relay.ratio],
      ['audienceDrawSeconds', report.audienceDrawSeconds],
      ['import.rowsPerSec', report.import.rowsPerSec],
      ['apiLatencyMs.p99', report.apiLatencyMs.p99],
      ...['api', 'worker-1', 'raw', 'sink'].map((name): [string, unknown] => [
        `peakRssMb.${name}`,
        report.peakRssMb[name],
      ]),
    ];
    for (const [name, value] of figures) {
      expect(
        typeof value === 'number' && Number.isFinite(value) && value > 0,
        `${name}: ${String(value)}`,
      ).toBe(true);
    }
    expect(report.ratio).toBeLessThanOrEqual(1.5);
    expect(report.relay.ratio).toBeLessThanOrEqual(1.5);
  }, 180_000);

  // After the test above, which built dist/ (two builds at once would write over each other).
  it('bench:console fetches every console page at a small scale and reports each', async () => {
    const file = path.join(dir, 'console.json');
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/console.ts', '--skip-build', '--json', file].concat([
        '--subscribers',
        '2000',
        '--campaigns',
        '12',
        '--requests',
        '2',
      ]),
      { cwd: packageRoot(), maxBuffer: 10 * 1024 * 1024, timeout: 120_000 },
    );
    expect(stdout).toContain('slowest p95');
    const report = JSON.parse(readFileSync(file, 'utf8')) as {
      params: { subscribers: number; campaigns: number };
      results: { url: string; p50: number; p95: number; max: number }[];
    };
    expect(report.params).toMatchObject({ subscribers: 2000, campaigns: 12 });
    const urls = report.results.map((r) => r.url.replace(/\d+/g, ':id'));
    for (const page of ['/admin', '/admin/campaigns', '/admin/campaigns/:id', '/admin/lists/:id'])
      expect(urls).toContain(page);
    expect(urls).toContain('/admin/subscribers?q=reader:id');
    for (const r of report.results)
      expect(r.p50 > 0 && r.p95 >= r.p50 && r.max >= r.p95, JSON.stringify(r)).toBe(true);
  }, 150_000);

  it('the click storm records every answered click once and loses none on SIGTERM', async () => {
    const file = path.join(dir, 'clicks.json');
    await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--clicks', '--quick', '--skip-build', '--json', file],
      { cwd: packageRoot(), maxBuffer: 10 * 1024 * 1024, timeout: 170_000 },
    );
    const { clicks } = JSON.parse(readFileSync(file, 'utf8')) as {
      clicks: {
        clicks: number;
        recordedOnce: boolean;
        redirectMs: { p50: number; p99: number };
        sendMsgsPerSec: { untracked: number; tracked: number };
        sigterm: { answered: number; recorded: number; lost: number };
      };
    };
    expect(clicks.clicks).toBe(2000);
    expect(clicks.recordedOnce).toBe(true);
    expect(clicks.redirectMs.p99).toBeGreaterThanOrEqual(clicks.redirectMs.p50);
    expect(clicks.sendMsgsPerSec.tracked).toBeGreaterThan(0);
    expect(clicks.sigterm.answered).toBeGreaterThan(0);
    expect(clicks.sigterm.lost).toBe(0);
    expect(clicks.sigterm.recorded).toBeGreaterThanOrEqual(clicks.sigterm.answered);
  }, 180_000);
});
