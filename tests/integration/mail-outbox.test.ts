import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { newMessageId } from '../../src/mail/message.js';
import { TEST_ADMIN_TOKEN } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { TOKEN_SCOPES as SCOPES } from '../../src/domain/scopes.js';

const ctx = contextSuite();

async function sendOne(subject: string) {
  const messageId = newMessageId('bulletin.example.org');
  await ctx.container.transport.send({
    from: { name: 'News', address: 'news@bulletin.example.org' },
    to: { name: 'Ada', address: 'ada@example.org' },
    subject,
    html: '<p>Hi</p>',
    text: 'Hi',
    messageId,
    oneClick: false,
    bulk: false,
  });
  return messageId;
}

/** Basic auth as a browser sends it: any user name, an API token as the password. */
const basic = (token: string) => `Basic ${Buffer.from(`dev:${token}`).toString('base64')}`;
const admin = basic(TEST_ADMIN_TOKEN);

describe('/dev/outbox', () => {
  it('lists the written messages and serves each one as text, to an admin', async () => {
    expect(ctx.container.transport.kind).toBe('outbox');
    const messageId = await sendOne('Outbox <check> & more');
    const list = await ctx.http.get('/dev/outbox').set('Authorization', admin);
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toMatch(/^text\/html/);
    const uuid = messageId.slice(1, 37);
    const href = new RegExp(`href="/dev/outbox/([^"]*${uuid}[^"]*\\.eml)"`).exec(list.text);
    expect(href, list.text).not.toBeNull();

    const one = await ctx.http.get(`/dev/outbox/${href![1]}`).set('Authorization', admin);
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(one.headers['x-content-type-options']).toBe('nosniff');
    expect(one.text).toContain(`Message-ID: ${messageId}`);
    expect(one.text).toContain('Subject: Outbox <check> & more');
  });

  it('lists date, recipient and subject, says how many, pages, and renders the HTML part sandboxed', async () => {
    for (let i = 0; i < 120; i++) await sendOne(`Paged message ${String(i).padStart(3, '0')}`);
    const first = await ctx.http.get('/dev/outbox').set('Authorization', admin);
    expect(first.status).toBe(200);
    const total = Number(/(\d+) messages written instead of sent/.exec(first.text)![1]);
    expect(total).toBeGreaterThanOrEqual(120);
    expect(first.text).toContain('Page 1 of');
    expect((first.text.match(/<tr>/g) ?? []).length).toBe(51); // the header row and 50
    expect(first.text).toContain('Paged message 119'); // newest first
    expect(first.text).toContain('ada@example.org');
    expect(first.text).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    const last = Math.ceil(total / 50);
    const end = await ctx.http.get(`/dev/outbox?page=${last}`).set('Authorization', admin);
    expect((end.text.match(/<tr>/g) ?? []).length).toBe(1 + (total - (last - 1) * 50));
    expect(end.text).toContain('Newer');
    expect(end.text).not.toContain('>Older<');

    const view = /href="(\/dev\/outbox\/[^"]+\/html)"/.exec(first.text)![1]!;
    const rendered = await ctx.http.get(view).set('Authorization', admin);
    expect(rendered.status).toBe(200);
    expect(rendered.type).toBe('text/html');
    expect(rendered.text).toContain('<p>Hi</p>');
    expect(rendered.headers['content-security-policy']).toMatch(/default-src 'none'.*sandbox/);
  });

  it.each([
    '/dev/outbox/..%2F..%2F..%2Fetc%2Fpasswd',
    '/dev/outbox/%2e%2e%2fpackage.json',
    '/dev/outbox/..%2Fpackage.json',
    '/dev/outbox/.env',
    '/dev/outbox/x.txt',
    '/dev/outbox/missing.eml',
    '/dev/outbox/%00.eml',
  ])('answers 404 for %s', async (url) => {
    const res = await ctx.http.get(url).set('Authorization', admin);
    expect(res.status).toBe(404);
    expect(res.text).not.toMatch(/root:|"name": "bulletin"/);
  });

  it('needs an admin token under every spelling of its paths: the mails hold signed links', async () => {
    const file = (await ctx.http.get('/dev/outbox').set('Authorization', admin)).text.match(
      /href="\/dev\/outbox\/([^"]+\.eml)"/,
    )![1]!;
    const others = await Promise.all(
      SCOPES.filter((s) => s !== 'admin').map(async (scope) => {
        const res = await ctx
          .api()
          .post('/api/v1/tokens')
          .send({ name: scope, scopes: [scope] });
        return res.body.token as string;
      }),
    );
    const paths = ['/dev/outbox', `/dev/outbox/${file}`, `/dev/outbox/${file}/html`];
    const spellings = paths.flatMap((p) => [
      p,
      p.toUpperCase(),
      `${p}/`,
      p.replace('/dev/', '/dev//'),
      p.replace('/dev/', '//dev/'),
      p.replace('outbox', 'outb%6Fx'),
      p.replace('/dev/', '/Dev/'),
    ]);
    for (const url of spellings) {
      for (const auth of [undefined, basic('not-a-token-0000000000'), ...others.map(basic)]) {
        const req = ctx.http.get(url);
        const res = await (auth ? req.set('Authorization', auth) : req);
        expect([401, 403, 404], `${url} ${auth ?? 'no auth'}`).toContain(res.status);
        expect(res.text).not.toContain('Message-ID');
      }
    }
    const none = await ctx.http.get('/dev/outbox');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    const bearer = await ctx.http
      .get('/dev/outbox')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(bearer.status).toBe(200);
  });

  it.each([
    ['in production', { nodeEnv: 'production' as const }],
    ['with SMTP_URL set', { smtpUrl: 'smtp://127.0.0.1:2525' }],
  ])('does not exist %s', async (_label, override) => {
    const app = createApp({ ...ctx.container, config: { ...ctx.config, ...override } });
    expect((await request(app).get('/dev/outbox')).status).toBe(404);
    expect((await request(app).get('/dev/outbox/anything.eml')).status).toBe(404);
  });
});
