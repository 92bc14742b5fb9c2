// /metrics and /ready read PostgreSQL and Redis: a flood of callers must cost one read.
import { describe, expect, it } from 'vitest';
import { sharedRead } from '../../src/lib/shared-read.js';
import { Metrics } from '../../src/metrics/metrics.js';

describe('sharedRead', () => {
  it('gives concurrent callers the one read in flight, reuses it for the ttl, then reads again', async () => {
    let reads = 0;
    let release!: () => void;
    const read = sharedRead(async () => {
      reads++;
      await new Promise<void>((resolve) => (release = resolve));
      return reads;
    }, 50);
    const all = Array.from({ length: 64 }, () => read());
    release();
    expect(await Promise.all(all)).toEqual(Array(64).fill(1));
    expect(await read()).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    const next = read();
    release();
    expect(await next).toBe(2);
  });

  it('does not keep a failure: the next call reads again', async () => {
    let calls = 0;
    const read = sharedRead(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('down')) : Promise.resolve('up');
    }, 10_000);
    await expect(read()).rejects.toThrow('down');
    expect(await read()).toBe('up');
  });
});

describe('Metrics scrapes', () => {
  it('64 concurrent scrapes cost one read of the queues and one of campaign progress', async () => {
    let queueReads = 0;
    let progressReads = 0;
    const metrics = new Metrics({
      queues: () => [
        {
          name: 'deliveries',
          getJobCounts: () => {
            queueReads++;
            return Promise.resolve({ waiting: 3 });
          },
        },
      ],
      campaignProgress: () => {
        progressReads++;
        return Promise.resolve([{ campaignId: 7, progress: 0.5 }]);
      },
      cacheMs: 5000,
    });
    const texts = await Promise.all(Array.from({ length: 64 }, () => metrics.render()));
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain('bulletin_queue_jobs{queue="deliveries",state="waiting"} 3');
    expect(texts[0]).toContain('bulletin_campaign_progress{campaign="7"} 0.5');
    // Later scrapes within METRICS_CACHE_MS reuse the figures too.
    await metrics.render();
    expect({ queueReads, progressReads }).toEqual({ queueReads: 1, progressReads: 1 });
  });

  it('with a cache of 0, every scrape reads again', async () => {
    let reads = 0;
    const metrics = new Metrics({
      campaignProgress: () => {
        reads++;
        return Promise.resolve([]);
      },
      cacheMs: 0,
    });
    await metrics.render();
    await metrics.render();
    expect(reads).toBe(2);
  });
});
