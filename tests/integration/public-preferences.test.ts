// The preference page: lists and name, unsubscribe from all, download my data, erase me (and an
// erased address staying out of imports and the form unless its owner confirms).
import { describe, expect, it } from 'vitest';
import { suppressionHash } from '../../src/db/repositories/subscribers.repository.js';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import { createCampaign, createTemplate, subscribe } from '../helpers/campaigns.js';
import * as fixtures from '../helpers/campaigns.js';

const { ctx, sink } = mailSuite({
  env: {
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    PUBLIC_URL: 'https://news.example.org',
  },
});

async function list(name: string, optin = 'single', visibility = 'public') {
  const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
    'INSERT INTO lists (name, optin, visibility) VALUES ($1, $2, $3) RETURNING id, uuid',
    [name, optin, visibility],
  );
  return rows[0]!;
}

async function person(email: string, name = 'Reader') {
  const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
    'INSERT INTO subscribers (email, name) VALUES ($1, $2) RETURNING id, uuid',
    [email, name],
  );
  return rows[0]!;
}

const statuses = (subscriberId: number) => fixtures.subscriptionStatuses(ctx, subscriberId);

const prefsPath = (uuid: string, campaignUuid?: string) =>
  ctx.container.services.links.path('preferences', uuid, campaignUuid);

function postForm(path: string, fields: [string, string][]) {
  return ctx.http
    .post(path)
    .set('X-Forwarded-For', '198.51.100.7')
    .type('form')
    .send(new URLSearchParams(fields).toString());
}

describe('the preference page', () => {
  it('shows public lists and the private lists the subscriber is on, with the name escaped', async () => {
    const pub = await list('Public news');
    const mine = await list('Members only', 'single', 'private');
    const other = await list('Board only', 'single', 'private');
    const s = await person('show@prefs.test', '<b>Bold</b> & "quoted"');
    await subscribe(ctx, mine.id, [s.id]);
    const res = await ctx.http.get(prefsPath(s.uuid));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Public news');
    expect(res.text).toContain('Members only');
    expect(res.text).not.toContain('Board only');
    expect(res.text).toMatch(new RegExp(`value="${mine.uuid}"\\s+checked`));
    expect(res.text).not.toMatch(new RegExp(`value="${pub.uuid}"\\s+checked`));
    expect(res.text).toContain('&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot;');
    expect(res.text).not.toContain('<b>Bold</b>');
    expect(other.id).toBeGreaterThan(0);
  });

  it('saves lists and name with consent records, and counts the unsubscribe for the campaign', async () => {
    const a = await list('List A');
    const b = await list('List B', 'double');
    const c = await list('List C');
    const s = await person('save@prefs.test', 'Old Name');
    await subscribe(ctx, a.id, [s.id]);
    await subscribe(ctx, c.id, [s.id]);
    const templateId = await createTemplate(ctx);
    const campaign = await createCampaign(ctx, { templateId, listIds: [a.id] });

    const res = await postForm(prefsPath(s.uuid, campaign.uuid), [
      ['action', 'save'],
      ['name', '  New Name '],
      ['lists', b.uuid],
      ['lists', c.uuid],
    ]);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Your preferences are saved.');
    // The link proves the mailbox: a double opt-in list ticked here is confirmed.
    expect(await statuses(s.id)).toEqual({
      [a.id]: 'unsubscribed',
      [b.id]: 'confirmed',
      [c.id]: 'confirmed',
    });
    const { rows: named } = await ctx.db.query('SELECT name FROM subscribers WHERE id = $1', [
      s.id,
    ]);
    expect(named[0].name).toBe('New Name');
    const consent = await ctx.db.query(
      `SELECT list_id, action, status, source, host(ip) AS ip FROM consent_records
       WHERE subscriber_id = $1 ORDER BY list_id`,
      [s.id],
    );
    expect(consent.rows).toEqual([
      {
        list_id: a.id,
        action: 'unsubscribe',
        status: 'unsubscribed',
        source: 'preferences',
        ip: '198.51.100.7',
      },
      {
        list_id: b.id,
        action: 'subscribe',
        status: 'confirmed',
        source: 'preferences',
        ip: '198.51.100.7',
      },
    ]);
    const events = await ctx.db.query(
      'SELECT type, source, campaign_id FROM events WHERE subscriber_id = $1',
      [s.id],
    );
    expect(events.rows).toEqual([
      { type: 'unsubscribe', source: 'preferences', campaign_id: campaign.id },
    ]);
    expect((await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body.stats.unsubscribed).toBe(
      1,
    );

    // Saving the same choices again changes nothing.
    await postForm(prefsPath(s.uuid, campaign.uuid), [
      ['action', 'save'],
      ['name', 'New Name'],
      ['lists', b.uuid],
      ['lists', c.uuid],
    ]);
    expect(
      (await ctx.db.query('SELECT 1 FROM consent_records WHERE subscriber_id = $1', [s.id]))
        .rowCount,
    ).toBe(2);
  });

  it('ignores lists the page does not offer and refuses a name with line breaks', async () => {
    const hidden = await list('Hidden', 'single', 'private');
    const s = await person('refuse@prefs.test', 'Kept');
    await postForm(prefsPath(s.uuid), [
      ['action', 'save'],
      ['lists', hidden.uuid],
    ]);
    expect(await statuses(s.id)).toEqual({});
    const res = await postForm(prefsPath(s.uuid), [
      ['action', 'save'],
      ['name', 'Two\nLines'],
    ]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Your name must be on one line.');
    const { rows } = await ctx.db.query('SELECT name FROM subscribers WHERE id = $1', [s.id]);
    expect(rows[0].name).toBe('Kept');
  });

  it('unsubscribes from every list at once', async () => {
    const a = await list('All A');
    const b = await list('All B', 'single', 'private');
    const s = await person('all@prefs.test');
    await subscribe(ctx, a.id, [s.id]);
    await subscribe(ctx, b.id, [s.id], 'unconfirmed');
    const res = await postForm(prefsPath(s.uuid), [['action', 'unsubscribe-all']]);
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are unsubscribed from all lists');
    expect(await statuses(s.id)).toEqual({ [a.id]: 'unsubscribed', [b.id]: 'unsubscribed' });
    const events = await ctx.db.query(
      "SELECT 1 FROM events WHERE subscriber_id = $1 AND type = 'unsubscribe' AND source = 'preferences'",
      [s.id],
    );
    expect(events.rowCount).toBe(1);
  });

  it('mails a download link to the address; the link downloads the data as JSON for an hour', async () => {
    const a = await list('Export list');
    const s = await person('export@prefs.test', 'Exporter');
    await postForm(prefsPath(s.uuid), [
      ['action', 'save'],
      ['lists', a.uuid],
    ]);
    await postForm(prefsPath(s.uuid), [['action', 'unsubscribe-all']]);
    // A staff member added a list through the API: their address is not the subscriber's data.
    await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .set('X-Forwarded-For', '203.0.113.99')
      .set('User-Agent', 'StaffScript/1.0')
      .send({ add: [a.id], status: 'confirmed' });

    // Whoever holds the newsletter's link gets a page, not the data.
    const res = await postForm(prefsPath(s.uuid), [['action', 'export']]);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('Check your inbox');
    expect(res.text).toContain('ex***@prefs.test');
    expect(res.text).not.toContain('consentRecords');
    const mail = await waitFor(() =>
      Promise.resolve(sink.messages.find((m) => m.to === 'export@prefs.test')),
    );
    expect(mail.headers.has('list-unsubscribe-post')).toBe(false);
    const link = /https:\/\/news\.example\.org(\/my-data\/[A-Za-z0-9_.-]+)/.exec(mail.text)![1]!;
    // Asking again within ten minutes mails nothing more.
    await postForm(prefsPath(s.uuid), [['action', 'export']]);

    const download = await ctx.http.get(link);
    expect(download.status).toBe(200);
    expect(download.type).toBe('application/json');
    expect(download.headers['content-disposition']).toBe('attachment; filename="my-data.json"');
    expect(download.headers['cache-control']).toBe('no-store');
    const data = JSON.parse(download.text);
    expect(data.profile).toMatchObject({
      uuid: s.uuid,
      email: 'export@prefs.test',
      name: 'Exporter',
    });
    expect(data.consentRecords.map((c: { source: string }) => c.source)).toEqual([
      'preferences',
      'preferences',
      'api',
    ]);
    expect(data.consentRecords[0]).toMatchObject({ ip: '198.51.100.7' });
    expect(data.consentRecords[2]).toMatchObject({ ip: null, userAgent: null });
    expect(download.text).not.toContain('StaffScript');
    expect(data.events).toEqual([
      expect.objectContaining({ type: 'unsubscribe', source: 'preferences' }),
    ]);
    expect(sink.messages.filter((m) => m.to === 'export@prefs.test')).toHaveLength(1);

    // The preference link itself never downloads; an hour-old link is like a forged one.
    const { signLink } = await import('../../src/domain/links.js');
    const old = signLink(ctx.container.signingKeys[0]!, {
      purpose: 'my-data',
      subscriberUuid: s.uuid,
      issuedAt: Math.floor(Date.now() / 1000) - 3601,
    });
    const expired = await ctx.http.get(`/my-data/${old}`);
    const forged = await ctx.http.get('/my-data/forged.token');
    expect(expired.status).toBe(404);
    expect(expired.text).toBe(forged.text);
    const wrongKind = await ctx.http.get(link.replace('/my-data/', '/erase/'));
    expect(wrongKind.status).toBe(404);
  });
});

describe('erasure', () => {
  it('needs the confirmation box', async () => {
    const s = await person('careful@erase.test');
    const res = await postForm(prefsPath(s.uuid), [['action', 'erase']]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Tick the box to confirm the erasure.');
    expect((await ctx.db.query('SELECT 1 FROM subscribers WHERE id = $1', [s.id])).rowCount).toBe(
      1,
    );
  });

  it('deletes the person, keeps only a hash, and keeps them out of imports and the form', async () => {
    const target = await list('Erase target');
    const email = 'Erase.Me@Erase.test';
    const s = await person(email, 'Eraser');
    await postForm(prefsPath(s.uuid), [
      ['action', 'save'],
      ['lists', target.uuid],
    ]);
    // An event that names the address in another case is the same person's.
    await ctx.db.query(
      "INSERT INTO events (type, source, provider_event_id, email) VALUES ('bounce', 'generic', 'x1', $1)",
      [email.toUpperCase()],
    );
    const path = prefsPath(s.uuid);

    const res = await postForm(path, [
      ['action', 'erase'],
      ['confirm', 'erase'],
    ]);
    // The page only mails a confirmation link: nothing is erased yet.
    expect(res.status).toBe(200);
    expect(res.text).toContain('Check your inbox');
    expect((await ctx.db.query('SELECT 1 FROM subscribers WHERE id = $1', [s.id])).rowCount).toBe(
      1,
    );
    const eraseMail = await waitFor(() =>
      Promise.resolve(
        sink.messages.find(
          (m) => m.to.toLowerCase() === email.toLowerCase() && /erasure/.test(m.subject),
        ),
      ),
    );
    const link = /https:\/\/news\.example\.org(\/erase\/[A-Za-z0-9_.-]+)/.exec(eraseMail.text)![1]!;
    // Following the link (as a mail scanner would) only shows the confirmation.
    const confirmPage = await ctx.http.get(link);
    expect(confirmPage.status).toBe(200);
    expect(confirmPage.text).toContain('Erase my data');
    expect((await ctx.db.query('SELECT 1 FROM subscribers WHERE id = $1', [s.id])).rowCount).toBe(
      1,
    );
    const erased = await postForm(link, [['confirm', 'erase']]);
    expect(erased.status).toBe(200);
    expect(erased.text).toContain('Your data is erased');
    for (const table of [
      'subscribers WHERE id = $1',
      'subscriptions WHERE subscriber_id = $1',
      'consent_records WHERE subscriber_id = $1',
    ]) {
      expect((await ctx.db.query(`SELECT 1 FROM ${table}`, [s.id])).rowCount).toBe(0);
    }
    expect(
      (await ctx.db.query('SELECT 1 FROM events WHERE lower(email) = lower($1)', [email])).rowCount,
    ).toBe(0);
    const { rows } = await ctx.db.query('SELECT email_hash, reason FROM suppressions');
    expect(rows).toEqual([{ email_hash: suppressionHash(email), reason: 'erased' }]);
    expect(rows[0].email_hash.equals(suppressionHash('erase.me@erase.test'))).toBe(true);

    // The link now looks like any bad link.
    const after = await ctx.http.get(path);
    const forged = await ctx.http.get('/preferences/forged.token');
    expect(after.status).toBe(404);
    expect(after.text).toBe(forged.text);

    // An import skips the address and says why.
    const upload = await ctx
      .api()
      .post(`/api/v1/lists/${target.id}/imports`)
      .set('Content-Type', 'text/csv')
      .send('email,name\nERASE.ME@erase.test,Again\nnew@erase.test,New\n');
    expect(upload.status).toBe(202);
    const done = await waitFor(async () => {
      const r = await ctx.api().get(`/api/v1/imports/${upload.body.id}`);
      return r.body.status === 'done' ? r.body : undefined;
    });
    expect(done).toMatchObject({ inserted: 1, skipped: 1 });
    const { rows: imp } = await ctx.db.query('SELECT suppressed FROM imports WHERE id = $1', [
      upload.body.id,
    ]);
    expect(imp[0].suppressed).toBe(1);
    expect(
      (await ctx.db.query('SELECT 1 FROM subscribers WHERE email_key = lower($1)', [email]))
        .rowCount,
    ).toBe(0);

    // The form does not add them back silently: only their own confirmation does.
    const form = await ctx.http
      .post('/subscribe')
      .set('X-Forwarded-For', '198.51.100.8')
      .type('form')
      .send(
        new URLSearchParams([
          ['email', email],
          ['lists', target.uuid],
        ]).toString(),
      );
    expect(form.status).toBe(200);
    const { rows: back } = await ctx.db.query<{ id: number }>(
      'SELECT id FROM subscribers WHERE email_key = lower($1)',
      [email],
    );
    expect(await statuses(back[0]!.id)).toEqual({ [target.id]: 'unconfirmed' });
    const mail = await waitFor(() =>
      Promise.resolve(
        sink.messages.find(
          (m) => m.to.toLowerCase() === email.toLowerCase() && m.text.includes('/confirm/'),
        ),
      ),
    );
    const confirm = new URL(
      /https:\/\/news\.example\.org\/confirm\/[A-Za-z0-9._-]+/.exec(mail.text)![0],
    ).pathname;
    expect((await ctx.http.get(confirm)).status).toBe(200);
    expect(await statuses(back[0]!.id)).toEqual({ [target.id]: 'confirmed' });
    expect((await ctx.db.query('SELECT 1 FROM suppressions')).rowCount).toBe(0);
  });
});
