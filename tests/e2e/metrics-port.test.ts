// METRICS_PORT: a worker-only process, which has no API server, still answers /health, /ready
// and /metrics on its ops port (the real entry point, spawned as an operator runs it).
import { afterAll, describe, expect, it } from 'vitest';
import {
  REDIS_URL,
  deleteQueueKeys,
  dropDatabase,
  testEnv,
  uniqueName,
} from '../helpers/context.js';
import { parseMetrics, samples, value } from '../helpers/metrics.js';
import { killAll, startService } from '../helpers/process.js';

const dbName = uniqueName('bulletin_test');
const prefix = uniqueName('bt');

afterAll(async () => {
  await killAll();
  await deleteQueueKeys(REDIS_URL, prefix);
  await dropDatabase(dbName);
});

describe('a worker process with METRICS_PORT', () => {
  it('serves /health, /ready and /metrics on the bound port, and closes it on SIGTERM', async () => {
    const worker = startService(
      'worker',
      testEnv(dbName, prefix, { LOG_LEVEL: 'info', METRICS_PORT: '0' }),
    );
    const line = await worker.waitForEvent('metrics_listening', 30_000);
    const port = Number(line.port);
    expect(port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${port}`;
    await worker.waitForEvent('workers_started');

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);

    // No METRICS_TOKEN: open.
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const all = parseMetrics(await res.text());
    expect(value(all, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples(all, 'bulletin_queue_jobs', { state: 'waiting' })).toHaveLength(4);
    expect(value(all, 'bulletin_messages_total', { result: 'sent' })).toBe(0);

    // Only the ops endpoints: the API lives on the API process.
    expect((await fetch(`${base}/api/v1/lists`)).status).toBe(404);
    // A worker process has no API server.
    expect(worker.logs().some((l) => l.event === 'listening')).toBe(false);

    const exit = await worker.stop('SIGTERM');
    expect(exit.code).toBe(0);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
