// Fault injection: the receiving server answers with the errors real servers give (docs/contract.md
// §4.3, §5). A real worker process sends; the sink decides per recipient and attempt. Every
// scenario ends with the ledger-equals-sink check of tests/helpers/faults.ts.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/context.js';
import * as faults from '../../helpers/faults.js';

const { world } = faults.faultSuite('replies', { resetSink: true });

/** Every `n`th recipient of a seeded campaign (…r3@, …r6@, …): "a share of recipients". */
const share = (n: number) => (address: string) => Number(/r(\d+)@/.exec(address)?.[1]) % n === 0;

async function subscriberStatuses(emails: string[]): Promise<Map<string, string>> {
  const { rows } = await world.ctx.db.query<{ email: string; status: string }>(
    'SELECT email, status FROM subscribers WHERE email = ANY($1::text[])',
    [emails],
  );
  return new Map(rows.map((r) => [r.email, r.status]));
}

async function smtpBounces(campaignId: number) {
  const { rows } = await world.ctx.db.query<{ email: string; bounce_type: string }>(
    "SELECT email, bounce_type FROM events WHERE campaign_id = $1 AND type = 'bounce' AND source = 'smtp'",
    [campaignId],
  );
  return rows;
}

describe('transient answers are retried until the message is accepted, once', () => {
  it('421 at RCPT for a share of recipients, twice each: all are sent, exactly once', async () => {
    const picked = share(4);
    world.sink.behaviour.onRcpt = (to, attempt) =>
      picked(to) && attempt <= 2
        ? { code: 421, message: '4.7.0 Try again later, closing connection' }
        : undefined;
    const { rows } = await faults.finishCampaign(world, 60, { sent: 60 });
    // The deferred ones took three attempts; the others one.
    for (const r of rows) expect(r.attempts, r.email).toBe(picked(r.email) ? 3 : 1);
  });

  it('451 after the final dot on the first attempt: the retry is the only copy that arrives', async () => {
    const picked = share(3);
    world.sink.behaviour.onData = (to, attempt) =>
      picked(to) && attempt === 1
        ? { code: 451, message: '4.3.0 Temporary failure after DATA' }
        : undefined;
    const { rows } = await faults.finishCampaign(world, 60, { sent: 60 });
    for (const r of rows) expect(r.attempts, r.email).toBe(picked(r.email) ? 2 : 1);
  });

  it('452 4.2.2 (mailbox full, for now) is retried; a lasting 4xx ends failed after MAX_ATTEMPTS', async () => {
    const full = share(5);
    const never = (to: string) => /r7@/.test(to);
    world.sink.behaviour.onRcpt = (to, attempt) => {
      if (never(to)) return { code: 450, message: '4.2.1 Mailbox busy' };
      if (full(to) && attempt === 1) return { code: 452, message: '4.2.2 Mailbox full' };
      return undefined;
    };
    const { campaign, rows } = await faults.finishCampaign(world, 40, { sent: 39, failed: 1 });
    const failed = rows.find((r) => r.status === 'failed')!;
    expect(failed.email).toMatch(/r7@/);
    expect(failed.attempts).toBe(5); // MAX_ATTEMPTS
    expect(failed.last_error).toMatch(/4\.2\.1/);
    // Transient answers never count against the subscriber.
    expect(await smtpBounces(campaign.id)).toEqual([]);
  });
});

describe('permanent answers are not retried', () => {
  it('550 5.1.1: a hard bounce, the subscriber is suppressed, nothing is retried', async () => {
    const unknownUser = share(6);
    world.sink.behaviour.onRcpt = (to) =>
      unknownUser(to)
        ? { code: 550, message: '5.1.1 <x>: Recipient address rejected: User unknown' }
        : undefined;
    const { campaign, rows } = await faults.finishCampaign(world, 60, { sent: 50, bounced: 10 });
    const bounced = rows.filter((r) => r.status === 'bounced');
    expect(bounced.every((r) => unknownUser(r.email) && r.attempts === 1)).toBe(true);
    expect(world.sink.attempts.get(bounced[0]!.email)).toBe(1);
    await waitFor(async () => {
      const statuses = await subscriberStatuses(bounced.map((r) => r.email));
      return [...statuses.values()].every((s) => s === 'bounced');
    });
    const events = await smtpBounces(campaign.id);
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.bounce_type === 'hard')).toBe(true);
  });

  it('552 5.2.2 (mailbox full): a soft bounce; the subscriber stays active below SOFT_BOUNCE_LIMIT', async () => {
    const full = share(5);
    world.sink.behaviour.onRcpt = (to) =>
      full(to) ? { code: 552, message: '5.2.2 Mailbox full' } : undefined;
    const { campaign, rows } = await faults.finishCampaign(world, 40, { sent: 32, bounced: 8 });
    const bounced = rows.filter((r) => r.status === 'bounced').map((r) => r.email);
    await waitFor(async () => (await smtpBounces(campaign.id)).length === 8);
    expect((await smtpBounces(campaign.id)).every((e) => e.bounce_type === 'soft')).toBe(true);
    const statuses = await subscriberStatuses(bounced);
    expect([...statuses.values()]).toEqual(Array(8).fill('active'));
  });

  it('550 5.7.1 blocklist text: failed, but the recipient is never suppressed for it', async () => {
    const blocked = share(4);
    world.sink.behaviour.onData = (to) =>
      blocked(to)
        ? { code: 550, message: '5.7.1 Service unavailable; client host blocked using Spamhaus' }
        : undefined;
    const { campaign, rows } = await faults.finishCampaign(world, 40, { sent: 30, failed: 10 });
    const failed = rows.filter((r) => r.status === 'failed');
    expect(failed.every((r) => r.attempts === 1 && /5\.7\.1/.test(r.last_error ?? ''))).toBe(true);
    expect(await smtpBounces(campaign.id)).toEqual([]);
    const statuses = await subscriberStatuses(failed.map((r) => r.email));
    expect([...statuses.values()]).toEqual(Array(10).fill('active'));
  });
});
