// A relay that allows fewer connections than SMTP_POOL_SIZE (docs/operations.md, "Tuning for
// your relay"): the connections past its limit are greeted with 421, the worker uses fewer,
// and every subscriber still gets the message exactly once; the campaign runs to its end.
import { describe, expect, it } from 'vitest';
import { ledger } from '../helpers/campaigns.js';
import { mailSuite } from '../helpers/suite.js';

const LIMIT = 3;
const suite = mailSuite({
  env: { SMTP_POOL_SIZE: '12', WORKER_CONCURRENCY: '4', RETRY_BASE_DELAY_MS: '100' },
});

describe('a relay with a per-client connection limit', () => {
  it('gets every message once through fewer connections, the campaign runs to its end', async () => {
    suite.sink.behaviour.maxConnections = LIMIT;
    const readers = await suite.audience(240, 'Limited relay');
    const campaign = await suite.send([readers.list]);
    expect(await suite.finished(campaign.id, 90_000)).toBe(true);

    expect(suite.sink.refusedConnections).toBeGreaterThan(0);
    expect(suite.sink.peakConnections).toBeLessThanOrEqual(LIMIT);
    const rows = await ledger(suite.ctx, campaign.id);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'sent'));
    const received = suite.sink.byRecipient();
    expect(received.size).toBe(240);
    for (const r of rows) expect(received.get(r.email)).toHaveLength(1);
  });
});
