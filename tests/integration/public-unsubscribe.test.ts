// Unsubscribing from the links in mail: the footer link's page (a GET never unsubscribes), the
// RFC 8058 one-click POST in both encodings, idempotence under parallel POSTs, campaign scope,
// what later campaigns do, and bad links that all look the same.
import { describe, expect, it } from 'vitest';
import { signLink, signingKey } from '../../src/domain/links.js';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';

const { ctx, sink } = mailSuite({ env: { PUBLIC_URL: 'https://news.example.org' } });

async function subscriber(id: number) {
  const { rows } = await ctx.db.query<{ uuid: string; email: string }>(
    'SELECT uuid, email FROM subscribers WHERE id = $1',
    [id],
  );
  return rows[0]!;
}

const statuses = (subscriberId: number) => fixtures.subscriptionStatuses(ctx, subscriberId);

const count = async (sql: string, params: unknown[] = []) =>
  (await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

const token = (
  uuid: string,
  campaignUuid?: string,
  purpose: 'unsubscribe' | 'preferences' = 'unsubscribe',
) => ctx.container.services.links.token(purpose, uuid, campaignUuid);

async function sendAndFinish(campaignId: number) {
  const started = await ctx.api().post(`/api/v1/campaigns/${campaignId}/send`);
  expect(started.status).toBe(200);
  await waitFor(async () => (await fixtures.campaignStatus(ctx, campaignId)) === 'finished', {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
}

describe('the unsubscribe page', () => {
  it('shows a confirm button and a GET (or HEAD) never unsubscribes', async () => {
    const list = await fixtures.createList(ctx, 'Page list');
    const [id] = await fixtures.seedSubscribers(ctx, 'page', 1, 'page.test');
    await fixtures.subscribe(ctx, list, [id!]);
    const s = await subscriber(id!);
    const t = token(s.uuid);

    for (let i = 0; i < 3; i++) {
      const res = await ctx.http.get(`/unsubscribe/${t}`);
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain(`<form method="post" action="/unsubscribe/${t}">`);
      expect(res.text).toContain('Page list');
      expect(res.text).toContain(s.email);
    }
    expect((await ctx.http.head(`/unsubscribe/${t}`)).status).toBe(200);
    expect(await statuses(id!)).toEqual({ [list]: 'confirmed' });
    expect(await count('consent_records WHERE subscriber_id = $1', [id])).toBe(0);

    // The page's button: a plain form post.
    const done = await ctx.http.post(`/unsubscribe/${t}`).type('form').send('confirm=unsubscribe');
    expect(done.status).toBe(200);
    expect(done.text).toContain('You are unsubscribed');
    expect(await statuses(id!)).toEqual({ [list]: 'unsubscribed' });
    const consent = await ctx.db.query('SELECT * FROM consent_records WHERE subscriber_id = $1', [
      id,
    ]);
    expect(consent.rows).toHaveLength(1);
    expect(consent.rows[0]).toMatchObject({
      action: 'unsubscribe',
      status: 'unsubscribed',
      source: 'one-click',
      detail: { via: 'page' },
    });
  });

  it('serves pages with a strict CSP, no cookies and no caching', async () => {
    const [id] = await fixtures.seedSubscribers(ctx, 'csp', 1, 'csp.test');
    const res = await ctx.http.get(`/unsubscribe/${token((await subscriber(id!)).uuid)}`);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toMatch(/^<!doctype html>\s*<html lang="en">/);
    expect(res.text).not.toMatch(/<script|style=/i);
    const css = /<link rel="stylesheet" href="([^"]+)"/.exec(res.text)![1]!;
    const sheet = await ctx.http.get(css);
    expect(sheet.status).toBe(200);
    expect(sheet.type).toBe('text/css');
  });
});

describe('RFC 8058 one-click unsubscribe', () => {
  it('accepts application/x-www-form-urlencoded and multipart/form-data', async () => {
    const list = await fixtures.createList(ctx, 'One-click list');
    const ids = await fixtures.seedSubscribers(ctx, 'oneclick', 2, 'oneclick.test');
    await fixtures.subscribe(ctx, list, ids);
    const [a, b] = await Promise.all(ids.map(subscriber));

    const urlencoded = await ctx.http
      .post(`/unsubscribe/${token(a!.uuid)}`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('List-Unsubscribe=One-Click');
    const multipart = await ctx.http
      .post(`/unsubscribe/${token(b!.uuid)}`)
      .field('List-Unsubscribe', 'One-Click');
    for (const res of [urlencoded, multipart]) {
      expect(res.status).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    for (const id of ids) {
      expect(await statuses(id)).toEqual({ [list]: 'unsubscribed' });
      const consent = await ctx.db.query(
        'SELECT source, detail FROM consent_records WHERE subscriber_id = $1',
        [id],
      );
      expect(consent.rows).toEqual([{ source: 'one-click', detail: { via: 'one-click' } }]);
    }
  });

  it('reads a hand-written multipart body with a quoted boundary, as some providers send it', async () => {
    const list = await fixtures.createList(ctx, 'Raw multipart list');
    const [id] = await fixtures.seedSubscribers(ctx, 'rawmultipart', 1, 'raw.test');
    await fixtures.subscribe(ctx, list, [id!]);
    const body = [
      '--b0undary',
      'Content-Disposition: form-data; name="List-Unsubscribe"',
      '',
      'One-Click',
      '--b0undary--',
      '',
    ].join('\r\n');
    const res = await ctx.http
      .post(`/unsubscribe/${token((await subscriber(id!)).uuid)}`)
      .set('Content-Type', 'multipart/form-data; boundary="b0undary"')
      .send(body);
    expect(res.status).toBe(200);
    expect(await statuses(id!)).toEqual({ [list]: 'unsubscribed' });
    const { rows } = await ctx.db.query(
      'SELECT detail FROM consent_records WHERE subscriber_id = $1',
      [id],
    );
    expect(rows).toEqual([{ detail: { via: 'one-click' } }]);
  });

  it('five parallel POSTs make one change, one consent record and one event for the campaign', async () => {
    const list = await fixtures.createList(ctx, 'Parallel list');
    const templateId = await fixtures.createTemplate(ctx);
    const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [list] });
    const [id] = await fixtures.seedSubscribers(ctx, 'parallel', 1, 'parallel.test');
    await fixtures.subscribe(ctx, list, [id!]);
    const t = token((await subscriber(id!)).uuid, campaign.uuid);

    const responses = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        i % 2 === 0
          ? ctx.http.post(`/unsubscribe/${t}`).type('form').send('List-Unsubscribe=One-Click')
          : ctx.http.post(`/unsubscribe/${t}`).field('List-Unsubscribe', 'One-Click'),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(id!)).toEqual({ [list]: 'unsubscribed' });
    expect(await count('consent_records WHERE subscriber_id = $1', [id])).toBe(1);
    const events = await ctx.db.query(
      'SELECT type, source, campaign_id, applied_at FROM events WHERE subscriber_id = $1',
      [id],
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]).toMatchObject({
      type: 'unsubscribe',
      source: 'one-click',
      campaign_id: campaign.id,
    });
    expect(events.rows[0].applied_at).not.toBeNull();
    const shown = await ctx.api().get(`/api/v1/campaigns/${campaign.id}`);
    expect(shown.body.stats.unsubscribed).toBe(1);
  });

  it("unsubscribes from the campaign's lists only, or from every list without a campaign", async () => {
    const news = await fixtures.createList(ctx, 'News');
    const events = await fixtures.createList(ctx, 'Events');
    const templateId = await fixtures.createTemplate(ctx);
    const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [news] });
    const [one, two] = await fixtures.seedSubscribers(ctx, 'scope', 2, 'scope.test');
    await fixtures.subscribe(ctx, news, [one!, two!]);
    await fixtures.subscribe(ctx, events, [one!, two!]);

    const scoped = await subscriber(one!);
    await ctx.http
      .post(`/unsubscribe/${token(scoped.uuid, campaign.uuid)}`)
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(await statuses(one!)).toEqual({ [news]: 'unsubscribed', [events]: 'confirmed' });

    const everything = await subscriber(two!);
    await ctx.http
      .post(`/unsubscribe/${token(everything.uuid)}`)
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(await statuses(two!)).toEqual({ [news]: 'unsubscribed', [events]: 'unsubscribed' });
  });
});

describe('unsubscribing through the pipeline', () => {
  it('the List-Unsubscribe URL of a sent campaign works, and a later campaign skips the subscriber', async () => {
    const list = await fixtures.createList(ctx, 'Pipeline list');
    const ids = await fixtures.seedSubscribers(ctx, 'pipe', 3, 'pipe.test');
    await fixtures.subscribe(ctx, list, ids);
    const templateId = await fixtures.createTemplate(ctx);
    const first = await fixtures.createCampaign(ctx, { templateId, listIds: [list] });
    await sendAndFinish(first.id);

    const leaving = await subscriber(ids[0]!);
    const mail = sink.messages.find((m) => m.to === leaving.email.toLowerCase());
    expect(mail).toBeDefined();
    expect(mail!.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const url = /<(https:\/\/news\.example\.org\/unsubscribe\/[^>]+)>/.exec(
      mail!.headers.get('list-unsubscribe')!,
    )![1]!;
    // What a mail provider does when the reader presses "Unsubscribe".
    const res = await ctx.http
      .post(new URL(url).pathname)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    expect((await ctx.api().get(`/api/v1/campaigns/${first.id}`)).body.stats.unsubscribed).toBe(1);

    const second = await fixtures.createCampaign(ctx, { templateId, listIds: [list] });
    await sendAndFinish(second.id);
    const rows = await fixtures.ledger(ctx, second.id);
    expect(rows.map((r) => r.subscriber_id).sort()).toEqual([ids[1], ids[2]].sort());
    const received = sink.messages.filter(
      (m) => m.headers.get('x-bulletin-campaign') === second.uuid,
    );
    expect(received.map((m) => m.to).sort()).toEqual(
      (await Promise.all([ids[1]!, ids[2]!].map(subscriber)))
        .map((s) => s.email.toLowerCase())
        .sort(),
    );
  });
});

describe('bad links', () => {
  it('forged, tampered, foreign-key, wrong-purpose and unknown-subscriber tokens answer alike', async () => {
    const [id] = await fixtures.seedSubscribers(ctx, 'forged', 1, 'forged.test');
    const s = await subscriber(id!);
    const genuine = token(s.uuid);
    const gone = await fixtures.seedSubscribers(ctx, 'gone', 1, 'gone.test');
    const goneToken = token((await subscriber(gone[0]!)).uuid);
    await ctx.db.query('DELETE FROM subscribers WHERE id = $1', [gone[0]]);
    const last = genuine.at(-1) === 'A' ? 'B' : 'A';
    const bad = [
      goneToken,
      'garbage',
      `${genuine.slice(0, -1)}${last}`,
      `${genuine.slice(0, 12)}${genuine[12] === 'A' ? 'B' : 'A'}${genuine.slice(13)}`,
      signLink(signingKey('another-secret-key-0123456789abcdef0123'), {
        purpose: 'unsubscribe',
        subscriberUuid: s.uuid,
      }),
      // A genuine token for another purpose (the VERP return path's) fits no page.
      signLink(signingKey(ctx.config.secretKey!), { purpose: 'bounce', subscriberUuid: s.uuid }),
      `${genuine}x`,
    ];
    const answers = [];
    for (const t of bad) {
      for (const path of [`/unsubscribe/${t}`, `/preferences/${t}`, `/confirm/${t}`]) {
        const get = await ctx.http.get(path);
        answers.push({ status: get.status, body: get.text, type: get.type });
      }
      const post = await ctx.http
        .post(`/unsubscribe/${t}`)
        .type('form')
        .send('List-Unsubscribe=One-Click');
      answers.push({ status: post.status, body: post.text, type: post.type });
      const prefs = await ctx.http.post(`/preferences/${t}`).type('form').send('action=export');
      answers.push({ status: prefs.status, body: prefs.text, type: prefs.type });
    }
    // Genuine tokens on the wrong page.
    const wrongPage = [
      `/unsubscribe/${token(s.uuid, undefined, 'preferences')}`,
      `/confirm/${token(s.uuid, undefined, 'preferences')}`,
      `/preferences/${genuine}`,
      `/confirm/${genuine}`,
    ];
    for (const path of wrongPage) {
      const get = await ctx.http.get(path);
      answers.push({ status: get.status, body: get.text, type: get.type });
    }
    const bare = await ctx.http.get('/unsubscribe');
    answers.push({ status: bare.status, body: bare.text, type: bare.type });
    const distinct = [...new Set(answers.map((a) => JSON.stringify(a)))];
    expect(distinct, distinct.join('\n')).toHaveLength(1);
    expect(answers[0]!.status).toBe(404);
    expect(answers[0]!.type).toBe('text/html');
    expect(answers[0]!.body).not.toMatch(/forged|gone|unsubscribe\/|subscriber/i);
    // Nothing changed for the subscriber the forged tokens named.
    expect(await count('consent_records WHERE subscriber_id = $1', [id])).toBe(0);
  });
});
