// The CLI's progress output without a terminal: readable lines, at most about one a second,
// only when something moved, and a last line at the end; data never reaches the terminal raw.
import { describe, expect, it } from 'vitest';
import { createProgress, progressLine, RateMeter } from '../../src/cli/progress.js';
import { clean, table } from '../../src/cli/format.js';

function lines(tty = false) {
  const out: string[] = [];
  let clock = 0;
  const stream = Object.assign(
    { write: (chunk: string) => out.push(chunk) !== 0 },
    { isTTY: tty },
  ) as unknown as NodeJS.WritableStream & { isTTY?: boolean };
  const progress = createProgress({
    label: 'import 3',
    unit: 'rows',
    rateUnit: 'rows/s',
    stream,
    now: () => clock,
  });
  return { out, progress, tick: (ms: number) => (clock += ms) };
}

describe('progress lines without a terminal', () => {
  it('prints counts, rate and ETA, throttled to about one line a second', () => {
    const { out, progress, tick } = lines();
    progress.update({ done: 0, total: 5000 });
    tick(300);
    progress.update({ done: 500, total: 5000, rate: 1666, etaSeconds: 3 });
    tick(800);
    progress.update({ done: 1200, total: 5000, rate: 1090, etaSeconds: 4 });
    tick(100);
    progress.update({ done: 1200, total: 5000, rate: 1000, etaSeconds: 4 });
    progress.finish({ done: 5000, total: 5000 });
    expect(out).toEqual([
      'import 3: 0/5000 rows (0%)\n',
      'import 3: 1200/5000 rows (24%), 1090 rows/s, ETA 4s\n',
      'import 3: 5000/5000 rows (100%)\n',
    ]);
  });

  it('shows a change of state at once', () => {
    const { out, progress, tick } = lines();
    progress.update({ done: 10, total: 100 });
    tick(10);
    progress.update({ done: 10, total: 100, note: 'paused: relay down' });
    expect(out[1]).toBe('import 3: 10/100 rows (10%) [paused: relay down]\n');
  });

  it('escapes control characters that come from data', () => {
    expect(
      progressLine(
        { label: 'campaign 1', unit: 'sent', rateUnit: 'msg/s', stream: process.stdout },
        { done: 1, total: 2, note: 'paused: \u001b[31mred' },
      ),
    ).toBe('campaign 1: 1/2 sent (50%) [paused: \\u{1b}[31mred]');
    expect(clean('a\r\nb')).toBe('a\\u{d}\\u{a}b');
    expect(table(['name', 'n'], [['x\u0007', 3]])).toBe('name    n\nx\\u{7}  3\n');
  });
});

describe('the rate meter', () => {
  it('measures over a sliding window, so a stall shows within the window', () => {
    const meter = new RateMeter(10_000);
    meter.add(0, 0);
    expect(meter.perSecond()).toBeUndefined();
    meter.add(1000, 100);
    expect(meter.perSecond()).toBe(100);
    for (let t = 2000; t <= 20_000; t += 1000) meter.add(t, 100 + (t >= 5000 ? 0 : t / 10));
    // Nothing moved during the last ten seconds.
    expect(meter.perSecond()).toBe(0);
  });
});
