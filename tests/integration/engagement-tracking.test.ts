// Opens and clicks (docs/engagement.md), from the links and pixels of delivered messages: a
// real send through the worker to an SMTP sink, then the requests a reader's client, a proxy
// or a scanner would make. Redirects go only to the snapshot's URLs; machines are recorded
// and kept out of the unique counts; the report and its CSV agree with the events.
import { beforeAll, describe, expect, it } from 'vitest';
import { mailSuite } from '../helpers/suite.js';
import { ageSend } from '../helpers/campaigns.js';
import type { ReceivedMessage } from '../helpers/smtp-sink.js';

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const MJML = `<mjml>
  <mj-body>
    <mj-section><mj-column>
      <mj-text>Hello {{ subscriber.name }}. <a href="{{ archive_url }}">View in your browser</a></mj-text>
      {{ content }}
      <mj-button href="https://example.org/agenda?year=2027&amp;lang=en">The agenda</mj-button>
      <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Preferences</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;
const CONTENT =
  'Read [the report](https://example.org/report) or write to [us](mailto:desk@example.org).';

const suite = mailSuite();
let templateId: number;

beforeAll(async () => {
  const res = await suite.ctx.api().post('/api/v1/templates').send({ name: 'Links', mjml: MJML });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  templateId = res.body.id as number;
});

async function sendCampaign(tracking: { opens: boolean; clicks: boolean }, readers = 3) {
  const audience = await suite.audience(readers, 'Tracked');
  const campaign = await suite.send([audience.list], { templateId, content: CONTENT, tracking });
  expect(await suite.finished(campaign.id)).toBe(true);
  const messages = suite.sink.messages.filter((m) => m.to.startsWith(audience.prefix));
  expect(messages).toHaveLength(readers);
  return { campaign, audience, messages };
}

const hrefs = (m: ReceivedMessage) =>
  [...m.html.matchAll(/href="([^"]+)"/g)].map((x) => x[1]!.replace(/&amp;/g, '&'));
const pathOf = (url: string) => new URL(url).pathname;
const clickLinks = (m: ReceivedMessage) => hrefs(m).filter((h) => pathOf(h).startsWith('/l/'));
const pixelOf = (m: ReceivedMessage) => /src="([^"]*\/o\/[^"]+)"/.exec(m.html)?.[1];

const get = (url: string, agent = BROWSER) =>
  suite.ctx.http.get(pathOf(url)).set('User-Agent', agent).redirects(0);

const ageDeliveries = (campaignId: number) => ageSend(suite.ctx, campaignId);

/** Moves the campaign's recorded clicks a minute back: the next click is not part of a burst. */
const ageClicks = (campaignId: number) =>
  suite.ctx.db.query(
    "UPDATE events SET occurred_at = occurred_at - interval '1 minute' WHERE campaign_id = $1 AND type = 'clicked'",
    [campaignId],
  );

const report = async (id: number) =>
  (await suite.ctx.api().get(`/api/v1/campaigns/${id}/report`).expect(200)).body;

describe('a campaign without tracking', () => {
  it('has no pixel and no rewritten link; its links are the originals', async () => {
    const { messages } = await sendCampaign({ opens: false, clicks: false }, 1);
    const [m] = messages;
    expect(pixelOf(m!)).toBeUndefined();
    expect(m!.html).not.toMatch(/\/[lo]\//);
    expect(hrefs(m!)).toEqual(
      expect.arrayContaining([
        'https://example.org/agenda?year=2027&lang=en',
        'https://example.org/report',
        'mailto:desk@example.org',
      ]),
    );
  });
});

describe('a tracked campaign', () => {
  let sent: Awaited<ReturnType<typeof sendCampaign>>;
  beforeAll(async () => {
    sent = await sendCampaign({ opens: true, clicks: true });
  });

  it('rewrites only the http(s) links, never unsubscribe, preferences, archive or mailto', () => {
    const m = sent.messages[0]!;
    expect(clickLinks(m)).toHaveLength(2);
    const all = hrefs(m);
    expect(all.some((h) => pathOf(h).startsWith('/unsubscribe/'))).toBe(true);
    expect(all.some((h) => pathOf(h).startsWith('/preferences/'))).toBe(true);
    expect(all.some((h) => pathOf(h).startsWith('/view/'))).toBe(true);
    expect(all).toContain('mailto:desk@example.org');
    expect(all.filter((h) => h.startsWith('https://example.org'))).toEqual([]);
    expect(pixelOf(m)).toBeDefined();
  });

  it('redirects each click to its original URL and counts a reader once however often', async () => {
    await ageDeliveries(sent.campaign.id);
    const [report1, agenda] = clickLinks(sent.messages[0]!);
    const first = await get(report1!);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('https://example.org/report');
    expect((await get(report1!)).status).toBe(302);
    await ageClicks(sent.campaign.id);
    expect((await get(agenda!)).headers.location).toBe(
      'https://example.org/agenda?year=2027&lang=en',
    );
    const r = await report(sent.campaign.id);
    expect(r.clicked).toEqual({ unique: 1, machine: 0 });
    expect(r.links).toEqual([
      { url: 'https://example.org/report', clicks: 2, unique: 1 },
      { url: 'https://example.org/agenda?year=2027&lang=en', clicks: 1, unique: 1 },
    ]);
    const campaign = await suite.ctx.api().get(`/api/v1/campaigns/${sent.campaign.id}`).expect(200);
    expect(campaign.body.stats.clicked).toBe(1);
  });

  it('answers a tampered token, another link index and a forged target with the 404 page', async () => {
    const [link] = clickLinks(sent.messages[1]!);
    const token = pathOf(link!).split('/')[2]!;
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    expect((await suite.ctx.http.get(`/l/${flipped}`).redirects(0)).status).toBe(404);
    const deliveryId = (
      await suite.ctx.db.query<{ id: number }>(
        'SELECT id FROM deliveries WHERE campaign_id = $1 ORDER BY id LIMIT 1',
        [sent.campaign.id],
      )
    ).rows[0]!.id;
    const beyond = suite.ctx.container.services.links.trackingUrl({
      purpose: 'click',
      id: deliveryId,
      link: 7,
    });
    expect((await get(beyond)).status).toBe(404);
    const forged = await suite.ctx.http
      .get(`${pathOf(link!)}?url=https://evil.example`)
      .set('User-Agent', BROWSER)
      .redirects(0);
    expect(forged.headers.location).toMatch(/^https:\/\/example\.org\//);
    const res = await suite.ctx.http.get('/l/not-a-token').redirects(0);
    expect(res.status).toBe(404);
    expect(res.type).toBe('text/html');
  });

  it('records HEAD, crawlers, mail proxies, bursts and delivery-time opens as machines', async () => {
    const m = sent.messages[2]!;
    const [a, b] = clickLinks(m);
    // A scanner follows every link of the message at once, with a browser's agent.
    await get(a!);
    await get(b!);
    await suite.ctx.http.head(pathOf(a!)).set('User-Agent', BROWSER).redirects(0).expect(302);
    await get(a!, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');
    const pixel = pixelOf(m)!;
    const proxied = await get(
      pixel,
      'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
    );
    expect(proxied.status).toBe(200);
    expect(proxied.headers['cache-control']).toBe('no-store');
    expect(proxied.type).toBe('image/gif');
    const { rows } = await suite.ctx.db.query<{
      type: string;
      machine: boolean;
      machine_reason: string | null;
    }>(
      `SELECT e.type, e.machine, e.machine_reason FROM events e JOIN deliveries d ON d.id = e.delivery_id
        WHERE d.campaign_id = $1 AND d.subscriber_id = (SELECT id FROM subscribers WHERE email_key = lower($2))
        ORDER BY e.id`,
      [sent.campaign.id, m.to],
    );
    expect(rows).toEqual([
      { type: 'clicked', machine: true, machine_reason: 'burst' },
      { type: 'clicked', machine: true, machine_reason: 'burst' },
      { type: 'clicked', machine: true, machine_reason: 'head' },
      { type: 'clicked', machine: true, machine_reason: 'bot' },
      { type: 'opened', machine: true, machine_reason: 'mail-proxy' },
    ]);
  });

  it('counts an open at delivery time as a machine, a later one as a reader, each reader once', async () => {
    const fresh = await sendCampaign({ opens: true, clicks: false }, 2);
    const [m1, m2] = fresh.messages;
    await get(pixelOf(m1!)!); // within 10 s of delivery: a prefetch
    await ageDeliveries(fresh.campaign.id);
    await get(pixelOf(m2!)!);
    await get(pixelOf(m2!)!);
    const r = await report(fresh.campaign.id);
    expect(r.opened).toEqual({ unique: 1, machine: 1 });
    expect(r.links).toEqual([]);
    expect(r.timeline.reduce((n: number, t: { opened: number }) => n + t.opened, 0)).toBe(2);
    expect(r.timeline.reduce((n: number, t: { sent: number }) => n + t.sent, 0)).toBe(2);
  });

  it('gives the same numbers as CSV', async () => {
    const r = await report(sent.campaign.id);
    const csv = await suite.ctx
      .api()
      .get(`/api/v1/campaigns/${sent.campaign.id}/report.csv`)
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines).toContain(`sent,${r.sent}`);
    expect(lines).toContain(`clicked_unique,${r.clicked.unique}`);
    expect(lines).toContain(`clicked_machine,${r.clicked.machine}`);
    expect(lines).toContain(`opened_machine,${r.opened.machine}`);
    expect(lines).toContain('https://example.org/agenda?year=2027&lang=en,1,1');
    expect(lines).toContain('at,sent,opened,clicked,unsubscribed,bounced');
  });

  it('shows the reader their own message at the view link, with original links and no pixel', async () => {
    const m = sent.messages[0]!;
    const view = hrefs(m).find((h) => pathOf(h).startsWith('/view/'))!;
    const before = await suite.ctx.db.query(
      'SELECT count(*)::int AS n FROM events WHERE source = $1',
      ['tracking'],
    );
    const page = await get(view);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`Hello ${/Reader \d+/.exec(m.html)?.[0]}`);
    expect(page.text).toContain('href="https://example.org/report"');
    expect(page.text).not.toMatch(/\/[lo]\/[A-Za-z0-9_-]{6}\./);
    expect(page.headers['cache-control']).toBe('no-store');
    const after = await suite.ctx.db.query(
      'SELECT count(*)::int AS n FROM events WHERE source = $1',
      ['tracking'],
    );
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
