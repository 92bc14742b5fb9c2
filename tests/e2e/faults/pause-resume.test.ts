// Fault injection: an operator pauses and resumes a running campaign three times (docs/contract.md
// §5: pause stops new SMTP transactions within seconds; resume continues without re-sending).
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/context.js';
import { messagesOf } from '../../helpers/fleet.js';
import * as faults from '../../helpers/faults.js';

const { world } = faults.faultSuite('pauser');

describe('pause and resume, three times, with a worker process', () => {
  it('each pause stops new transactions within seconds; each resume continues; every message arrives once', async () => {
    world.sink.behaviour.dataDelayMs = () => 15;
    const campaign = await faults.seedCampaign(world, 400);
    await faults.send(world, campaign);
    const arrived = () => messagesOf(world.sink, campaign.uuid).length;
    let seen = 0;
    for (let round = 1; round <= 3; round++) {
      await waitFor(() => Promise.resolve(arrived() >= seen + 40), {
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      await world.ctx.api().post(`/api/v1/campaigns/${campaign.id}/pause`).expect(200);
      const pausedAt = Date.now();
      // The windows in flight finish; then nothing more arrives.
      await faults.verifyCampaign(world, campaign, { status: 'paused' });
      const settled = arrived();
      expect(Date.now() - pausedAt, 'pause took effect').toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(arrived(), `round ${round}: nothing arrives while paused`).toBe(settled);
      expect(settled).toBeLessThan(400);
      seen = settled;
      await world.ctx.api().post(`/api/v1/campaigns/${campaign.id}/resume`).expect(200);
    }
    await faults.waitForStatus(world, campaign, 'finished', 90_000);
    await faults.verifyCampaign(world, campaign, { status: 'finished', counts: { sent: 400 } });
  }, 180_000);
});
