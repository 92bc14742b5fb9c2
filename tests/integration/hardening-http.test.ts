// The HTTP edge (docs/security.md): client addresses only from proxies TRUST_PROXY names,
// deep or odd JSON refused before anything walks it, link tokens never in request logs
// whatever their spelling, and the servers' explicit timeouts and connection cap.
import net from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { listen } from '../../src/api/http-server.js';
import { createLogger } from '../../src/lib/logger.js';
import { signLink, signingKey } from '../../src/domain/links.js';
import { createTestContext, TEST_ADMIN_TOKEN, type TestContext } from '../helpers/context.js';
import { stateOf } from '../helpers/state.js';

let plain: TestContext;
let proxied: TestContext;
const listUuid = new Map<TestContext, string>();
beforeAll(async () => {
  plain = await createTestContext({
    HTTP_REQUEST_TIMEOUT_MS: '1000',
    HTTP_HEADERS_TIMEOUT_MS: '1000',
    HTTP_MAX_CONNECTIONS: '3',
  });
  proxied = await createTestContext({ TRUST_PROXY: 'loopback' });
  for (const ctx of [plain, proxied]) {
    const { rows } = await ctx.db.query<{ uuid: string }>(
      "INSERT INTO lists (name, optin, visibility) VALUES ('Open', 'single', 'public') RETURNING uuid",
    );
    listUuid.set(ctx, rows[0]!.uuid);
  }
});
afterAll(async () => {
  await plain?.close();
  await proxied?.close();
});

const subscribe = (ctx: TestContext, ip: string, email: string) =>
  ctx.http
    .post('/subscribe')
    .set('X-Forwarded-For', ip)
    .type('form')
    .send(new URLSearchParams({ email, lists: listUuid.get(ctx)! }).toString());

const consentIps = async (ctx: TestContext) =>
  (
    await ctx.db.query<{ ip: string }>('SELECT DISTINCT ip::text AS ip FROM consent_records')
  ).rows.map((r) => r.ip);

describe('client addresses', () => {
  it('without TRUST_PROXY, a rotating X-Forwarded-For neither escapes the rate limit nor reaches consent records', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(
        (await subscribe(plain, `203.0.113.${i + 1}`, `rotate${i}@example.test`)).status,
      );
    }
    // SUBSCRIBE_LIMIT is 10 posts per address and window: the rest are refused.
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    const ips = await consentIps(plain);
    expect(ips.length).toBeGreaterThan(0);
    for (const ip of ips) expect(ip).toMatch(/^(::ffff:)?127\.0\.0\.1(\/\d+)?$|^::1(\/128)?$/);
  });

  it('with TRUST_PROXY=loopback, the address the proxy on this machine reports is the client', async () => {
    const res = await subscribe(proxied, '198.51.100.23', 'behind-proxy@example.test');
    expect(res.status, res.text).toBe(200);
    expect(await consentIps(proxied)).toEqual(['198.51.100.23/32']);
  });
});

describe('hostile JSON', () => {
  const post = (ctx: TestContext, url: string, body: string) =>
    ctx.http
      .post(url)
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .set('Content-Type', 'application/json')
      .serialize((data: unknown) => data as string)
      .send(Buffer.from(body));

  it('attributes nested 10,000 levels deep: 400 naming attributes; nothing stored', async () => {
    const before = await stateOf(plain);
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const res = await post(
      plain,
      '/api/v1/subscribers',
      `{"email":"deep@example.test","attributes":${deep}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'attributes', message: 'nests deeper than 32 levels' },
    ]);
    expect(await stateOf(plain)).toEqual(before);
  });

  it('campaign data nested 100,000 levels deep: 400 naming data', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await post(
      plain,
      '/api/v1/campaigns',
      `{"name":"x","subject":"y","templateId":1,"data":{"k":${deep}}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toEqual({ path: 'data', message: 'nests deeper than 32 levels' });
  });

  it('nesting within the limit is fine', async () => {
    const ok = `${'{"a":'.repeat(20)}1${'}'.repeat(20)}`;
    const res = await post(
      plain,
      '/api/v1/subscribers',
      `{"email":"shallow@example.test","attributes":${ok}}`,
    );
    expect(res.status).toBe(201);
  });

  it('a UTF-8 byte order mark before the JSON is a 400 saying so, as docs/api.md states', async () => {
    const res = await plain.http
      .post('/api/v1/lists')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .set('Content-Type', 'application/json; charset=utf-8')
      .serialize((data: unknown) => data as string)
      .send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"BOM"}')]));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_request');
    expect(res.body.detail).toMatch(/byte order mark/);
  });
});

describe('request logs', () => {
  it('never hold a link token, whatever the spelling of its path', async () => {
    const lines: string[] = [];
    const log = createLogger('info', {}, { write: (line: string) => lines.push(line) });
    const app = createApp({ ...plain.container, log });
    const { rows } = await plain.db.query<{ uuid: string }>('SELECT uuid FROM subscribers LIMIT 1');
    const token = signLink(signingKey('any-key-for-the-shape-of-a-token-000000'), {
      purpose: 'preferences',
      subscriberUuid: rows[0]!.uuid,
    });
    const { default: request } = await import('supertest');
    for (const url of [
      `/preferences/${token}`,
      `/PREFERENCES/${token}`,
      `/Preferences/${token}/`,
      `/%70references/${token}`,
      `/unsubscribe/${token}?x=1`,
      `/anything/${token}`,
      `/subscribe?token=${token}`,
    ]) {
      await request(app).post(url).type('form').send('name=x');
    }
    const text = lines.join('');
    expect(lines.length).toBeGreaterThanOrEqual(7);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(0, 20));
    expect(text).toContain('[redacted]');
  });
});

describe('HTTP server limits', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = await listen(plain.app, 0, plain.config);
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sets every limit from the configuration, on the configured host', () => {
    expect(server.headersTimeout).toBe(1000);
    expect(server.requestTimeout).toBe(plain.config.http.uploadTimeoutMs);
    expect(server.keepAliveTimeout).toBe(plain.config.http.keepAliveTimeoutMs);
    expect(server.maxConnections).toBe(3);
    expect((server.address() as net.AddressInfo).address).toBe('127.0.0.1');
  });

  it('cuts off a JSON body that trickles in past HTTP_REQUEST_TIMEOUT_MS with a 408', async () => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(
      `POST /api/v1/lists HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na',
    );
    const timer = setInterval(() => socket.write(' '), 300);
    await closed;
    clearInterval(timer);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('serves at most HTTP_MAX_CONNECTIONS connections at once', async () => {
    const open = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100)); // the server counts accepted sockets
    const extra = net.connect(port, '127.0.0.1');
    const refused = await new Promise<boolean>((resolve) => {
      extra.on('close', () => resolve(true));
      extra.on('data', () => resolve(false));
      extra.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(refused).toBe(true);
    for (const s of open) s.destroy();
  });
});
