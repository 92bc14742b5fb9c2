// What `bulletin campaign status --watch` and `send --watch` show at each stage of a send.
import { describe, expect, it } from 'vitest';
import { zeroDeliveryCounts } from '../../src/domain/campaign.js';
import { campaignAccount, duration, progressState } from '../../src/cli/commands/campaigns.js';
import { RateMeter } from '../../src/cli/progress.js';
import type { Campaign } from '../../src/cli/schemas.js';

const stats = (over: Partial<Campaign['stats']> = {}): Campaign['stats'] => ({
  recipients: 0,
  ...zeroDeliveryCounts(),
  complained: 0,
  unsubscribed: 0,
  opened: 0,
  clicked: 0,
  ...over,
});
const campaign = (over: Partial<Campaign>): Campaign => ({
  id: 7,
  name: 'Quarterly',
  status: 'running',
  stats: stats(),
  progress: 0,
  rate: 0,
  eta: null,
  ...over,
});

describe('the campaign watch', () => {
  it('says "drawing audience" while a running campaign has no ledger rows yet', () => {
    expect(progressState(campaign({}), new RateMeter()).note).toBe('drawing audience');
    const drawn = campaign({ stats: stats({ recipients: 100, queued: 100 }) });
    expect(progressState(drawn, new RateMeter()).note).toBeUndefined();
  });

  it('ends with the duration and the average achieved', () => {
    const done = campaign({
      status: 'finished',
      startedAt: '2027-03-29T07:00:00.000Z',
      finishedAt: '2027-03-29T07:02:05.000Z',
      stats: stats({ recipients: 250, sent: 250 }),
    });
    const text = campaignAccount(done);
    expect(text).toMatch(/^duration\s+2 min 5 s$/m);
    expect(text).toMatch(/^average\s+2(\.0+)? msg\/s$/m);
  });

  it('writes durations as people read them', () => {
    expect(duration(42.4)).toBe('42 s');
    expect(duration(75)).toBe('1 min 15 s');
    expect(duration(4000)).toBe('1 h 6 min');
  });
});
