import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { newMessageId } from '../../src/mail/message.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

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

describe('/dev/outbox', () => {
  it('lists the written messages and serves each one as text, without admin auth', async () => {
    expect(ctx.container.transport.kind).toBe('outbox');
    const messageId = await sendOne('Outbox <check> & more');
    const list = await ctx.http.get('/dev/outbox');
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toMatch(/^text\/html/);
    const uuid = messageId.slice(1, 37);
    const href = new RegExp(`href="/dev/outbox/([^"]*${uuid}[^"]*\\.eml)"`).exec(list.text);
    expect(href, list.text).not.toBeNull();

    const one = await ctx.http.get(`/dev/outbox/${href![1]}`);
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(one.headers['x-content-type-options']).toBe('nosniff');
    expect(one.text).toContain(`Message-ID: ${messageId}`);
    expect(one.text).toContain('Subject: Outbox <check> & more');
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
    const res = await ctx.http.get(url);
    expect(res.status).toBe(404);
    expect(res.text).not.toMatch(/root:|"name": "bulletin"/);
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
