// The public subscribe form and double opt-in: what it stores, the confirmation mail (at most one
// a day), the confirm link, campaigns before and after confirmation, the same answer for every
// address, the honeypot, validation and the per-IP rate limit.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import type { ReceivedMessage } from '../helpers/smtp-sink.js';

const { ctx, sink } = mailSuite({
  env: {
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    PUBLIC_URL: 'https://news.example.org',
    MAIL_FROM: 'The Secretariat <news@example.org>',
  },
});

let ipCounter = 0;
/** Each test posts from its own address, so the rate limit of one does not touch another. */
const nextIp = () => `203.0.113.${++ipCounter}`;

async function list(name: string, optin: 'single' | 'double', visibility = 'public') {
  const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
    'INSERT INTO lists (name, optin, visibility) VALUES ($1, $2, $3) RETURNING id, uuid',
    [name, optin, visibility],
  );
  return rows[0]!;
}

function post(ip: string, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
  }
  return ctx.http
    .post('/subscribe')
    .set('X-Forwarded-For', ip)
    .set('User-Agent', 'TestBrowser/1.0')
    .type('form')
    .send(body.toString());
}

async function subscriptionsOf(email: string) {
  const { rows } = await ctx.db.query<{ list_id: number; status: string }>(
    `SELECT x.list_id, x.status FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
     WHERE s.email_key = lower($1) ORDER BY x.list_id`,
    [email],
  );
  return Object.fromEntries(rows.map((r) => [r.list_id, r.status]));
}

const mailsTo = (email: string) => sink.messages.filter((m) => m.to === email.toLowerCase());
const confirmPath = (m: ReceivedMessage) =>
  new URL(/https:\/\/news\.example\.org\/confirm\/[A-Za-z0-9._-]+/.exec(m.text)![0]).pathname;

async function sendAndFinish(campaignId: number) {
  expect((await ctx.api().post(`/api/v1/campaigns/${campaignId}/send`)).status).toBe(200);
  await waitFor(async () => (await fixtures.campaignStatus(ctx, campaignId)) === 'finished', {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
}

describe('the subscribe form', () => {
  it('lists the public lists with labelled checkboxes and a hidden honeypot', async () => {
    const open = await list('Open <News> & Views', 'single');
    const secret = await list('Board only', 'single', 'private');
    const res = await ctx.http.get('/subscribe');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Open &lt;News&gt; &amp; Views');
    expect(res.text).not.toContain('Board only');
    expect(res.text).toContain(`value="${open.uuid}"`);
    expect(res.text).not.toContain(secret.uuid);
    expect(res.text).toMatch(/<label for="email">/);
    expect(res.text).toMatch(/<div class="hp" aria-hidden="true">/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('subscribes to a single opt-in list at once and records consent from the form', async () => {
    const single = await list('Single news', 'single');
    const res = await post(nextIp(), {
      email: ' Grace@Example.ORG ',
      name: 'Grace Hopper',
      lists: single.uuid,
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Thank you');
    expect(await subscriptionsOf('Grace@example.org')).toEqual({ [single.id]: 'confirmed' });
    const { rows } = await ctx.db.query(
      `SELECT c.action, c.status, c.source, host(c.ip) AS ip, c.user_agent, s.name
       FROM consent_records c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email_key = lower($1)`,
      ['grace@example.org'],
    );
    expect(rows).toEqual([
      {
        action: 'subscribe',
        status: 'confirmed',
        source: 'form',
        ip: `203.0.113.${ipCounter}`,
        user_agent: 'TestBrowser/1.0',
        name: 'Grace Hopper',
      },
    ]);
  });

  it('double opt-in: unconfirmed, one confirmation mail a day, confirmed by the link', async () => {
    const double = await list('Quarterly "Letter"', 'double');
    const email = 'ada@double.test';
    const ip = nextIp();
    expect((await post(ip, { email, name: 'Ada', lists: double.uuid })).status).toBe(200);
    expect(await subscriptionsOf(email)).toEqual({ [double.id]: 'unconfirmed' });

    const [mail] = await waitFor(() =>
      Promise.resolve(mailsTo(email).length > 0 ? mailsTo(email) : undefined),
    );
    expect(mail!.subject).toBe('Confirm your subscription to Quarterly "Letter"');
    expect(mail!.from).toBe('news@example.org');
    expect(mail!.headers.has('list-unsubscribe-post')).toBe(false);
    expect(mail!.headers.has('list-unsubscribe')).toBe(false);
    expect(mail!.html).toContain('Quarterly &#34;Letter&#34;');

    // Asking again the same day sends nothing more.
    expect((await post(ip, { email, lists: double.uuid })).status).toBe(200);
    await ctx.container.services.publicSubscriptions.settled();
    expect(mailsTo(email)).toHaveLength(1);

    const confirmed = await ctx.http.get(confirmPath(mail!));
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('Subscription confirmed');
    expect(await subscriptionsOf(email)).toEqual({ [double.id]: 'confirmed' });
    const consent = await ctx.db.query(
      `SELECT c.action, c.status, c.source FROM consent_records c
       JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email_key = lower($1) ORDER BY c.id`,
      [email],
    );
    expect(consent.rows).toEqual([
      { action: 'subscribe', status: 'unconfirmed', source: 'form' },
      { action: 'confirm', status: 'confirmed', source: 'form' },
    ]);
    const events = await ctx.db.query(
      `SELECT e.type, e.source FROM events e JOIN subscribers s ON s.id = e.subscriber_id
       WHERE s.email_key = lower($1)`,
      [email],
    );
    expect(events.rows).toEqual([{ type: 'confirmed', source: 'preferences' }]);

    // The link again: nothing changes.
    const again = await ctx.http.get(confirmPath(mail!));
    expect(again.status).toBe(200);
    expect(again.text).toContain('Already confirmed');
    expect(
      (await ctx.db.query('SELECT 1 FROM events WHERE type = $1', ['confirmed'])).rowCount,
    ).toBe(1);
  });

  it('a campaign before confirmation skips the address, after confirmation includes it', async () => {
    const double = await list('Double pipeline', 'double');
    const [reader] = await fixtures.seedSubscribers(ctx, 'already', 1, 'pipeline.test');
    await fixtures.subscribe(ctx, double.id, [reader!]);
    const email = 'pending@pipeline.test';
    await post(nextIp(), { email, lists: double.uuid });
    const templateId = await fixtures.createTemplate(ctx);

    const before = await fixtures.createCampaign(ctx, { templateId, listIds: [double.id] });
    await sendAndFinish(before.id);
    expect((await fixtures.ledger(ctx, before.id)).map((r) => r.email)).toEqual([
      'already1@pipeline.test',
    ]);

    const mail = await waitFor(() => Promise.resolve(mailsTo(email)[0]));
    expect((await ctx.http.get(confirmPath(mail))).status).toBe(200);

    const after = await fixtures.createCampaign(ctx, { templateId, listIds: [double.id] });
    await sendAndFinish(after.id);
    expect((await fixtures.ledger(ctx, after.id)).map((r) => r.email).sort()).toEqual([
      'already1@pipeline.test',
      email,
    ]);
    expect(
      sink.messages.some(
        (m) => m.to === email && m.headers.get('x-bulletin-campaign') === after.uuid,
      ),
    ).toBe(true);
  });

  it('answers the same whether the address is new, known, confirmed or not deliverable', async () => {
    const single = await list('Same answer', 'single');
    const double = await list('Same answer double', 'double');
    const lists = [single.uuid, double.uuid];
    const email = 'same@answer.test';
    const ip = nextIp();
    const fresh = await post(ip, { email, name: 'First', lists });
    const known = await post(ip, { email, name: 'Someone else', lists });
    await ctx.db.query(
      "UPDATE subscriptions x SET status = 'confirmed' FROM subscribers s WHERE s.id = x.subscriber_id AND s.email_key = lower($1)",
      [email],
    );
    const confirmed = await post(ip, { email, name: 'First', lists });
    await ctx.db.query("UPDATE subscribers SET status = 'bounced' WHERE email = $1", [email]);
    const bounced = await post(ip, { email, name: 'First', lists });
    for (const res of [known, confirmed, bounced]) {
      expect(res.status).toBe(fresh.status);
      expect(res.text).toBe(fresh.text);
    }
    // The form never renames an existing subscriber.
    const { rows } = await ctx.db.query(
      'SELECT name FROM subscribers WHERE email_key = lower($1)',
      [email],
    );
    expect(rows[0].name).toBe('First');
  });

  it('someone who unsubscribed must confirm to come back, even to a single opt-in list', async () => {
    const single = await list('Come back', 'single');
    const email = 'comeback@again.test';
    const ip = nextIp();
    await post(ip, { email, lists: single.uuid });
    await ctx.db.query(
      "UPDATE subscriptions x SET status = 'unsubscribed' FROM subscribers s WHERE s.id = x.subscriber_id AND s.email_key = lower($1)",
      [email],
    );
    await post(ip, { email, lists: single.uuid });
    expect(await subscriptionsOf(email)).toEqual({ [single.id]: 'unconfirmed' });
    const mail = await waitFor(() => Promise.resolve(mailsTo(email)[0]));
    await ctx.http.get(confirmPath(mail));
    expect(await subscriptionsOf(email)).toEqual({ [single.id]: 'confirmed' });
  });

  it('a filled honeypot gets the usual answer and stores nothing', async () => {
    const single = await list('Honeypot', 'single');
    const ip = nextIp();
    const bot = await post(ip, {
      email: 'bot@spam.test',
      lists: single.uuid,
      website: 'http://spam.test',
    });
    const human = await post(ip, { email: 'human@spam.test', lists: single.uuid });
    expect(bot.status).toBe(200);
    expect(bot.text).toBe(human.text.replace('human@spam.test', 'bot@spam.test'));
    const { rowCount } = await ctx.db.query('SELECT 1 FROM subscribers WHERE email_key = $1', [
      'bot@spam.test',
    ]);
    expect(rowCount).toBe(0);
  });

  it('refuses invalid input with the form again, values escaped', async () => {
    const single = await list('Validation', 'single');
    const hostile = '"><script>alert(1)</script>';
    const res = await post(nextIp(), { email: hostile, name: hostile, lists: [] });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Enter an email address like name@example.org.');
    expect(res.text).toContain('Choose at least one list.');
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(res.text).toContain('aria-invalid="true"');
    // Private or unknown lists do not count as a choice.
    const priv = await list('Private', 'single', 'private');
    const refused = await post(nextIp(), { email: 'x@valid.test', lists: [priv.uuid, 'nope'] });
    expect(refused.status).toBe(400);
    expect(await subscriptionsOf('x@valid.test')).toEqual({});
    expect(single.id).toBeGreaterThan(0);
  });

  it('rate-limits form posts per IP with a 429 page, counted in Redis under QUEUE_PREFIX', async () => {
    const single = await list('Limited', 'single');
    const ip = nextIp();
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) {
      answers.push((await post(ip, { email: `limited${i}@rate.test`, lists: single.uuid })).status);
    }
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(answers[10]).toBe(429);
    const limited = await post(ip, { email: 'more@rate.test', lists: single.uuid });
    expect(limited.status).toBe(429);
    expect(limited.type).toBe('text/html');
    expect(limited.text).toContain('Too many requests');
    expect(limited.headers['retry-after']).toBeDefined();
    expect(await subscriptionsOf('limited10@rate.test')).toEqual({});
    // Another address is not affected.
    expect((await post(nextIp(), { email: 'other@rate.test', lists: single.uuid })).status).toBe(
      200,
    );
    const keys = await ctx.container.redis.keys(`${ctx.config.queuePrefix}:ratelimit:subscribe:*`);
    expect(keys.length).toBeGreaterThan(0);
  });
});
