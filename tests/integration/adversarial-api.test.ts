// Adversarial input against the admin API: malformed and oversized JSON, wrong types,
// unknown fields, junk and path traversal in every id parameter, bad query parameters. Each
// gets a clear 4xx problem document, and nothing in the database changes.
import { describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../helpers/context.js';
import { adversarialSuite, stateOf } from '../helpers/state.js';

const { ctx, ids, state } = adversarialSuite(
  { JSON_BODY_LIMIT_BYTES: '65536' },
  'Adversarial',
  'ada@adversarial.test',
);

/** A raw request: bytes and headers exactly as given. */
function raw(
  method: 'post' | 'patch' | 'put',
  url: string,
  body: Buffer | string,
  type = 'application/json',
) {
  return (
    ctx.http[method](url)
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .set('Content-Type', type)
      // As bytes on the wire: superagent would otherwise serialise a Buffer with a JSON type as
      // {"type":"Buffer","data":[…]}, and every test here would pass for the wrong reason.
      .serialize((data: unknown) => data as string)
      .send(typeof body === 'string' ? Buffer.from(body) : body)
  );
}

async function expectRefused(
  res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  status: number | number[],
) {
  expect([status].flat(), JSON.stringify(res.body)).toContain(res.status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status: res.status,
    title: expect.any(String),
    type: expect.any(String),
  });
  expect(await stateOf(ctx)).toEqual(state.before);
}

describe('malformed JSON', () => {
  it.each([
    ['truncated', '{"name": "News'],
    ['trailing garbage', '{"name": "News"} and more'],
    ['a trailing comma', '{"name": "News",}'],
    ['single quotes', "{'name': 'News'}"],
    ['a bare word', 'News'],
  ])('%s → 400', async (_what, body) => {
    await expectRefused(await raw('post', '/api/v1/lists', body), 400);
  });

  it.each([
    ['an array', '[{"name": "News"}]'],
    ['a string', '"News"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('%s where an object belongs → 400', async (_what, body) => {
    await expectRefused(await raw('post', '/api/v1/lists', body), 400);
  });

  it('invalid UTF-8 bytes → 400', async () => {
    const body = Buffer.concat([
      Buffer.from('{"name": "'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);
    await expectRefused(await raw('post', '/api/v1/lists', body), 400);
  });

  it('a body over JSON_BODY_LIMIT_BYTES → 413', async () => {
    const body = JSON.stringify({ name: 'x', description: 'y'.repeat(70_000) });
    await expectRefused(await raw('post', '/api/v1/lists', body), 413);
  });

  it('deep nesting → 400, without exhausting the stack', async () => {
    const body = `{"name": "x", "attributes": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const res = await raw('post', '/api/v1/subscribers', body);
    await expectRefused(res, [400, 413]);
  });

  it('a body that is not JSON at all → 415', async () => {
    await expectRefused(
      await raw('post', '/api/v1/lists', 'name=News', 'application/x-www-form-urlencoded'),
      415,
    );
    await expectRefused(await raw('post', '/api/v1/lists', '<list/>', 'application/xml'), 415);
  });

  it('a UTF-8 BOM before the JSON is refused as malformed (400)', async () => {
    await expectRefused(await raw('post', '/api/v1/lists', '\uFEFF{"name": "News"}'), 400);
  });
});

describe('wrong types and unknown fields name the field', () => {
  const cases: [string, 'post' | 'patch' | 'put', () => string, Record<string, unknown>, string][] =
    [
      ['list name as a number', 'post', () => '/api/v1/lists', { name: 5 }, 'name'],
      [
        'list optin outside the enum',
        'post',
        () => '/api/v1/lists',
        { name: 'x', optin: 'maybe' },
        'optin',
      ],
      [
        'a typo in a list field',
        'post',
        () => '/api/v1/lists',
        { name: 'x', visiblity: 'public' },
        'visiblity',
      ],
      [
        'subscriber email as an array',
        'post',
        () => '/api/v1/subscribers',
        { email: ['a@b.test'] },
        'email',
      ],
      [
        'subscriber lists as a string',
        'post',
        () => '/api/v1/subscribers',
        { email: 'b@b.test', lists: '1' },
        'lists',
      ],
      [
        'a typo in a subscriber field',
        'post',
        () => '/api/v1/subscribers',
        { email: 'c@b.test', listIds: [1] },
        'listIds',
      ],
      [
        'attributes as an array',
        'post',
        () => '/api/v1/subscribers',
        { email: 'd@b.test', attributes: [1] },
        'attributes',
      ],
      [
        'membership add as a string',
        'put',
        () => `/api/v1/subscribers/${ids.subscriberId}/lists`,
        { add: 'all' },
        'add',
      ],
      [
        'a subscriber patch with an unknown field',
        'patch',
        () => `/api/v1/subscribers/${ids.subscriberId}`,
        { nmae: 'x' },
        'nmae',
      ],
      [
        'template mjml as a number',
        'post',
        () => '/api/v1/templates',
        { name: 't', mjml: 5 },
        'mjml',
      ],
      [
        'a typo in a campaign field',
        'post',
        () => '/api/v1/campaigns',
        { name: 'c', subject: 's', templateId: 1, listsIds: [1] },
        'listsIds',
      ],
      [
        'campaign listIds of strings',
        'patch',
        () => `/api/v1/campaigns/${ids.campaignId}`,
        { listIds: ['1'] },
        'listIds',
      ],
      [
        'token scopes as a string',
        'post',
        () => '/api/v1/tokens',
        { name: 'x', scopes: 'admin' },
        'scopes',
      ],
      [
        'schedule at a date that is not ISO-8601',
        'post',
        () => `/api/v1/campaigns/${ids.campaignId}/schedule`,
        { sendAt: 'next tuesday' },
        'sendAt',
      ],
      [
        'schedule in a time zone that does not exist',
        'post',
        () => `/api/v1/campaigns/${ids.campaignId}/schedule`,
        { sendAt: '2099-01-01T10:00:00', timezone: 'Mars/Olympus' },
        'timezone',
      ],
      [
        'test send to eleven addresses',
        'post',
        () => `/api/v1/campaigns/${ids.campaignId}/test`,
        { emails: Array.from({ length: 11 }, (_, i) => `t${i}@b.test`) },
        'emails',
      ],
      [
        'test send to a number',
        'post',
        () => `/api/v1/campaigns/${ids.campaignId}/test`,
        { emails: [5] },
        'emails',
      ],
      [
        'preview with an unknown field',
        'post',
        () => `/api/v1/templates/${ids.templateId}/preview`,
        { subscriber: { email: 'x@y.test' }, extra: 1 },
        'extra',
      ],
    ];

  it.each(cases)('%s → 400 (or 422) naming it', async (_what, method, url, body, field) => {
    const res = await ctx.api()[method === 'put' ? 'put' : method](url()).send(body);
    await expectRefused(res, [400, 422]);
    const paths = (res.body.errors as { path: string }[] | undefined)?.map((e) => e.path) ?? [];
    expect(
      paths.some((p) => p === field || p.startsWith(`${field}.`) || p.startsWith(`${field}[`)),
      JSON.stringify(res.body),
    ).toBe(true);
  });
});

describe('junk in id parameters', () => {
  const JUNK = [
    '..%2f..%2fetc%2fpasswd',
    '..%5c..%5cwindows',
    '1%3BDROP%20TABLE%20lists',
    "1'%20OR%20'1'%3D'1",
    '1e3',
    '-1',
    '0',
    '99999999999999999999',
    '0x10',
    '%201',
    '1%00',
    '%D9%A1', // ARABIC-INDIC DIGIT ONE
    'null',
  ];
  const ROUTES: [string, (id: string) => string][] = [
    ['GET', (id) => `/api/v1/lists/${id}`],
    ['PATCH', (id) => `/api/v1/lists/${id}`],
    ['DELETE', (id) => `/api/v1/lists/${id}`],
    ['POST', (id) => `/api/v1/lists/${id}/imports`],
    ['GET', (id) => `/api/v1/lists/${id}/export.csv`],
    ['GET', (id) => `/api/v1/imports/${id}`],
    ['GET', (id) => `/api/v1/subscribers/${id}`],
    ['PATCH', (id) => `/api/v1/subscribers/${id}`],
    ['DELETE', (id) => `/api/v1/subscribers/${id}`],
    ['PUT', (id) => `/api/v1/subscribers/${id}/lists`],
    ['GET', (id) => `/api/v1/subscribers/${id}/events`],
    ['GET', (id) => `/api/v1/templates/${id}`],
    ['PATCH', (id) => `/api/v1/templates/${id}`],
    ['DELETE', (id) => `/api/v1/templates/${id}`],
    ['POST', (id) => `/api/v1/templates/${id}/preview`],
    ['GET', (id) => `/api/v1/campaigns/${id}`],
    ['PATCH', (id) => `/api/v1/campaigns/${id}`],
    ['DELETE', (id) => `/api/v1/campaigns/${id}`],
    ['GET', (id) => `/api/v1/campaigns/${id}/preflight`],
    ['GET', (id) => `/api/v1/campaigns/${id}/deliveries`],
    ...['test', 'schedule', 'send', 'pause', 'resume', 'cancel', 'retry'].map(
      (action) =>
        ['POST', (id: string) => `/api/v1/campaigns/${id}/${action}`] as [
          string,
          (id: string) => string,
        ],
    ),
    ['DELETE', (id) => `/api/v1/tokens/${id}`],
    ['GET', (id) => `/api/v1/queues/${id}/failed`],
    ['POST', (id) => `/api/v1/queues/deliveries/jobs/${id}/retry`],
    ['DELETE', (id) => `/api/v1/queues/deliveries/jobs/${id}`],
    ['POST', (id) => `/api/v1/queues/${id}/jobs/1/retry`],
  ];

  it.each(ROUTES.map(([m, u]) => [`${m} ${u(':id')}`, m, u] as const))(
    '%s: 400 or 404, never a 5xx, nothing changes',
    async (_name, method, url) => {
      for (const junk of JUNK) {
        const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
        const api = ctx.api();
        const req = api[verb](url(junk));
        const res = await (['POST', 'PUT', 'PATCH'].includes(method) &&
        !url('x').endsWith('/imports')
          ? req.send({})
          : url('x').endsWith('/imports')
            ? req.set('Content-Type', 'text/csv').send('email\nz@z.test\n')
            : req);
        expect(
          [400, 404],
          `${method} ${url(junk)} → ${res.status} ${JSON.stringify(res.body)}`,
        ).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        if (res.status === 400) {
          const paths =
            (res.body.errors as { path: string }[] | undefined)?.map((e) => e.path) ?? [];
          expect(paths.length, JSON.stringify(res.body)).toBeGreaterThan(0);
        }
      }
      expect(await stateOf(ctx)).toEqual(state.before);
    },
  );
});

describe('bad query parameters name the parameter', () => {
  it.each([
    ['/api/v1/subscribers?limit=-1', 'limit'],
    ['/api/v1/subscribers?limit=100000', 'limit'],
    ['/api/v1/subscribers?limit=ten', 'limit'],
    ['/api/v1/subscribers?after=%00garbage', 'after'],
    ['/api/v1/subscribers?status=deleted', 'status'],
    ['/api/v1/subscribers?list=abc', 'list'],
    ['/api/v1/lists?limit=1001', 'limit'],
    ['/api/v1/campaigns?after=not-a-cursor', 'after'],
    [`/api/v1/campaigns/1/deliveries?status=lost`, 'status'],
    ['/api/v1/subscribers?limit=1&limit=2', 'limit'],
  ])('%s → 400', async (url, param) => {
    const res = await ctx.api().get(url);
    await expectRefused(res, 400);
    const paths = (res.body.errors as { path: string }[] | undefined)?.map((e) => e.path) ?? [];
    expect(paths, JSON.stringify(res.body)).toContain(param);
  });
});
