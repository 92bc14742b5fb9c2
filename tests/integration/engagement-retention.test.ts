// What happens to opens and clicks later (docs/engagement.md): they are in the reader's history
// and data download; erasure removes them; past TRACKING_RETENTION_DAYS the raw events are
// deleted while the campaign's counts stay what they were, each reader still counted once.
import { beforeAll, describe, expect, it } from 'vitest';
import { ageSend } from '../helpers/campaigns.js';
import { mailSuite } from '../helpers/suite.js';
import type { ReceivedMessage } from '../helpers/smtp-sink.js';

const AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36';
const suite = mailSuite();
let campaignId: number;
let mails: ReceivedMessage[];

const linksOf = (m: ReceivedMessage) =>
  [...m.html.matchAll(/href="([^"]*\/l\/[^"]+)"/g)].map((x) => new URL(x[1]!).pathname);
const pixelOf = (m: ReceivedMessage) =>
  new URL(/src="([^"]*\/o\/[^"]+)"/.exec(m.html)![1]!).pathname;
const hit = (path: string, agent = AGENT) =>
  suite.ctx.http.get(path).set('User-Agent', agent).redirects(0);
const report = async () =>
  (await suite.ctx.api().get(`/api/v1/campaigns/${campaignId}/report`).expect(200)).body;
const subscriberOf = async (email: string) =>
  (
    await suite.ctx.db.query<{ id: number; uuid: string }>(
      'SELECT id, uuid FROM subscribers WHERE email_key = lower($1)',
      [email],
    )
  ).rows[0]!;

beforeAll(async () => {
  const audience = await suite.audience(3, 'Kept');
  const campaign = await suite.send([audience.list], {
    content:
      'The [agenda](https://example.org/agenda) and the [minutes](https://example.org/minutes).',
    tracking: { opens: true, clicks: true },
  });
  campaignId = campaign.id;
  expect(await suite.finished(campaignId)).toBe(true);
  await ageSend(suite.ctx, campaignId);
  mails = suite.sink.messages.filter((m) => m.to.startsWith(audience.prefix));
  const [a, b, c] = mails;
  await hit(linksOf(a!)[0]!);
  await hit(linksOf(a!)[0]!);
  await hit(linksOf(b!)[0]!);
  await hit(pixelOf(b!));
  await hit(pixelOf(c!), 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)');
});

describe('a reader’s opens and clicks', () => {
  it('are in their history and in their data download', async () => {
    const b = await subscriberOf(mails[1]!.to);
    const history = await suite.ctx.api().get(`/api/v1/subscribers/${b.id}/events`).expect(200);
    const tracked = (history.body.data as { type: string; source: string }[]).filter(
      (e) => e.source === 'tracking',
    );
    expect(tracked.map((e) => e.type).sort()).toEqual(['clicked', 'opened']);
    const res = await suite.ctx.http
      .get(suite.ctx.container.services.links.path('my-data', b.uuid))
      .expect(200);
    const data = JSON.parse(res.text) as { events: { type: string; source: string }[] };
    expect(
      data.events
        .filter((e) => e.source === 'tracking')
        .map((e) => e.type)
        .sort(),
    ).toEqual(['clicked', 'opened']);
  });
});

describe('the retention', () => {
  it('removes old raw events and keeps every count, each reader once', async () => {
    const before = await report();
    expect(before.clicked).toEqual({ unique: 2, machine: 0 });
    expect(before.opened).toEqual({ unique: 1, machine: 1 });
    await suite.ctx.db.query(
      "UPDATE events SET occurred_at = occurred_at - interval '400 days' WHERE campaign_id = $1",
      [campaignId],
    );
    // A reader comes back to the agenda today: still one reader.
    await hit(linksOf(mails[0]!)[0]!);
    const removed = await suite.ctx.container.services.engagement.applyRetention(395);
    expect(removed).toBe(5);
    const { rows } = await suite.ctx.db.query(
      "SELECT type FROM events WHERE campaign_id = $1 AND source = 'tracking'",
      [campaignId],
    );
    expect(rows).toEqual([{ type: 'clicked' }]);
    const after = await report();
    expect(after.clicked).toEqual({ unique: 2, machine: 0 });
    expect(after.opened).toEqual(before.opened);
    expect(after.links).toEqual([
      { url: 'https://example.org/agenda', clicks: 4, unique: 2 },
      { url: 'https://example.org/minutes', clicks: 0, unique: 0 },
    ]);
    const campaign = await suite.ctx.api().get(`/api/v1/campaigns/${campaignId}`).expect(200);
    expect(campaign.body.stats).toMatchObject({ opened: 1, clicked: 2 });
    expect(await suite.ctx.container.services.engagement.applyRetention(395)).toBe(0);
  });
});

describe('erasure', () => {
  it('removes the reader’s opens and clicks', async () => {
    const a = await subscriberOf(mails[0]!.to);
    await suite.ctx.api().delete(`/api/v1/subscribers/${a.id}`).expect(204);
    const { rows } = await suite.ctx.db.query(
      "SELECT count(*)::int AS n FROM events WHERE source = 'tracking' AND subscriber_id = $1",
      [a.id],
    );
    expect(rows[0].n).toBe(0);
    // Their link still works, and records nothing.
    expect((await hit(linksOf(mails[0]!)[0]!)).status).toBe(302);
    const left = await suite.ctx.db.query(
      "SELECT count(*)::int AS n FROM events WHERE source = 'tracking' AND campaign_id = $1",
      [campaignId],
    );
    expect(left.rows[0].n).toBe(0);
  });
});
