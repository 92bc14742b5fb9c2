// Adversarial values in fields: CR/LF and other control characters in every text
// field that can reach a mail header or a log, addresses built to smuggle a second recipient or
// pass for another domain, and Liquid or MJML hidden in subscriber data. Refused with a problem
// naming the field, or rendered inert; nothing changes.
import { describe, expect, it } from 'vitest';
import { adversarialSuite, stateOf } from '../helpers/state.js';

const { ctx, ids, state } = adversarialSuite({}, 'Fields', 'eve@fields.test');

async function expectFieldRefused(
  res: { status: number; body: { errors?: { path: string }[] } },
  field: string,
) {
  expect([400, 422], JSON.stringify(res.body)).toContain(res.status);
  expect(res.body.errors?.map((e) => e.path) ?? [], JSON.stringify(res.body)).toContain(field);
  expect(await stateOf(ctx)).toEqual(state.before);
}

const CONTROL = [
  ['CR LF and a header', 'Quarterly\r\nBcc: everyone@evil.test'],
  ['a bare LF', 'Quarterly\nX-Injected: 1'],
  ['a bare CR', 'Quarterly\rX-Injected: 1'],
  ['NUL', 'Quarter\u0000ly'],
  ['a line separator', 'Quarter\u2028ly'],
  ['an escape sequence', 'Quarter\u001b[31mly'],
] as const;

describe('control characters in text fields', () => {
  const FIELDS: [
    string,
    'post' | 'patch',
    () => string,
    (v: string) => Record<string, unknown>,
    string,
  ][] = [
    ['list name', 'post', () => '/api/v1/lists', (v) => ({ name: v }), 'name'],
    [
      'list name (edit)',
      'patch',
      () => `/api/v1/lists/${ids.listId}`,
      (v) => ({ name: v }),
      'name',
    ],
    [
      'subscriber name',
      'post',
      () => '/api/v1/subscribers',
      (v) => ({ email: 'new@fields.test', name: v }),
      'name',
    ],
    [
      'subscriber name (edit)',
      'patch',
      () => `/api/v1/subscribers/${ids.subscriberId}`,
      (v) => ({ name: v }),
      'name',
    ],
    [
      'subscriber email',
      'post',
      () => '/api/v1/subscribers',
      (v) => ({ email: `${v}@fields.test` }),
      'email',
    ],
    [
      'template name',
      'post',
      () => '/api/v1/templates',
      (v) => ({ name: v, mjml: '<mjml><mj-body></mj-body></mjml>' }),
      'name',
    ],
    [
      'campaign name',
      'patch',
      () => `/api/v1/campaigns/${ids.campaignId}`,
      (v) => ({ name: v }),
      'name',
    ],
    [
      'campaign subject',
      'patch',
      () => `/api/v1/campaigns/${ids.campaignId}`,
      (v) => ({ subject: v }),
      'subject',
    ],
    [
      'campaign fromName',
      'patch',
      () => `/api/v1/campaigns/${ids.campaignId}`,
      (v) => ({ fromName: v }),
      'fromName',
    ],
    [
      'campaign fromEmail',
      'patch',
      () => `/api/v1/campaigns/${ids.campaignId}`,
      (v) => ({ fromEmail: `x${v}@fields.test` }),
      'fromEmail',
    ],
    [
      'campaign replyTo',
      'patch',
      () => `/api/v1/campaigns/${ids.campaignId}`,
      (v) => ({ replyTo: `x${v}@fields.test` }),
      'replyTo',
    ],
    ['token name', 'post', () => '/api/v1/tokens', (v) => ({ name: v, scopes: ['read'] }), 'name'],
  ];
  it.each(FIELDS)('%s refuses every control character', async (_what, method, url, body, field) => {
    for (const [, value] of CONTROL) {
      const res = await ctx.api()[method](url()).send(body(value));
      await expectFieldRefused(res, field);
    }
  });

  it('list descriptions may span lines (they never reach a header) but not hold NUL or escapes', async () => {
    const ok = await ctx
      .api()
      .post('/api/v1/lists')
      .send({ name: 'Multi-line', description: 'One\nTwo' });
    expect(ok.status).toBe(201);
    state.before = await stateOf(ctx);
    for (const bad of ['a\u0000b', 'a\u001b[2Jb']) {
      const res = await ctx.api().post('/api/v1/lists').send({ name: 'Bad', description: bad });
      await expectFieldRefused(res, 'description');
    }
  });
});

describe('addresses that smuggle a second recipient or pass for another domain', () => {
  const SMUGGLED = [
    '"a@x y"@fields.test',
    'a@x.test,b@y.test',
    'a@x.test b@y.test',
    'a@x.test;b@y.test',
    '<a@x.test>',
    'Name <a@x.test>',
    'a(comment)@x.test',
    'a@x.test(comment)',
    'a@x.test\r\nBcc: b@y.test',
    'a@[127.0.0.1]',
    'a@localhost',
    '@x.test',
    'a@',
    'a@@x.test',
    'a@x..test',
    '"quoted"@x.test',
    'a\\@b@x.test',
    `${'a'.repeat(65)}@x.test`,
    `a@${'b'.repeat(250)}.test`,
    'ops@pаypal.test', // Cyrillic а: a look-alike of paypal.test
    'ops@xn--pypal-4ve.test', // the same look-alike, already punycoded
    'ops@аррӏе.test', // all-Cyrillic letters that mimic "apple" next to Latin TLD is fine, mixed label is not
  ];

  it.each(SMUGGLED)('%j is refused everywhere an address is taken', async (address) => {
    const attempts: [
      () => Promise<{ status: number; body: { errors?: { path: string }[] } }>,
      string,
    ][] = [
      [() => ctx.api().post('/api/v1/subscribers').send({ email: address }), 'email'],
      [
        () => ctx.api().patch(`/api/v1/subscribers/${ids.subscriberId}`).send({ email: address }),
        'email',
      ],
      [
        () => ctx.api().patch(`/api/v1/campaigns/${ids.campaignId}`).send({ fromEmail: address }),
        'fromEmail',
      ],
      [
        () => ctx.api().patch(`/api/v1/campaigns/${ids.campaignId}`).send({ replyTo: address }),
        'replyTo',
      ],
      [
        () =>
          ctx
            .api()
            .post(`/api/v1/campaigns/${ids.campaignId}/test`)
            .send({ emails: [address] }),
        'emails.0',
      ],
    ];
    for (const [attempt, field] of attempts) await expectFieldRefused(await attempt(), field);
  });

  it('a genuine internationalised domain in one script is accepted (and stored punycoded)', async () => {
    const res = await ctx.api().post('/api/v1/subscribers').send({ email: 'anna@почта.рф' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.email).toBe('anna@xn--80a1acny.xn--p1ai');
    const german = await ctx.api().post('/api/v1/subscribers').send({ email: 'jo@Bücher.example' });
    expect(german.status, JSON.stringify(german.body)).toBe(201);
    expect(german.body.email).toBe('jo@xn--bcher-kva.example');
  });
});

describe('Liquid and MJML hidden in subscriber data', () => {
  const PAYLOADS = [
    '{{ campaign.data.secret }}',
    '{% raw %}{{ unsubscribe_url }}{% endraw %}',
    "{% include 'secrets' %}",
    '<mj-raw><script>alert(1)</script></mj-raw>',
    '</mj-text><mj-button href="javascript:alert(1)">Win</mj-button>',
    '<img src=x onerror=alert(1)>',
  ];

  it.each(PAYLOADS)('a name of %j renders as inert, escaped text', async (payload) => {
    const res = await ctx
      .api()
      .post(`/api/v1/templates/${ids.templateId}/preview`)
      .send({
        subscriber: { name: payload, email: 'x@fields.test', attributes: { city: payload } },
        campaign: { data: { secret: 'TOP-SECRET' } },
      });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { html, text } = res.body as { html: string; text: string };
    expect(html).not.toContain('TOP-SECRET');
    expect(text).not.toContain('TOP-SECRET');
    expect(html).not.toMatch(/<script|<img|<mj-|href="javascript:/i);
    // The payload is there, as text: escaped in HTML, as written in the plain part.
    expect(text).toContain(payload.replace(/\s+/g, ' ').slice(0, 10));
    expect(await stateOf(ctx)).toEqual(state.before);
  });
});
