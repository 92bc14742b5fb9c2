import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';

const root = path.resolve(import.meta.dirname, '../..');
const newsletter = readFileSync(path.join(root, 'templates/newsletter.mjml'), 'utf8');
const quarterly = readFileSync(path.join(root, 'templates/samples/quarterly-content.md'), 'utf8');

const simple = (text = 'Hello {{ subscriber.name }}') =>
  [
    '<mjml>',
    '<mj-body>',
    '<mj-section><mj-column>',
    `<mj-text>${text}</mj-text>`,
    '<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>',
    '</mj-column></mj-section>',
    '{{ content }}',
    '</mj-body>',
    '</mjml>',
  ].join('\n');

const ctx = contextSuite();

async function create(name: string, mjml = simple()) {
  const res = await ctx.api().post('/api/v1/templates').send({ name, mjml });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as {
    id: number;
    name: string;
    mjml: string;
    createdAt: string;
    warnings: string[];
  };
}

describe('templates API', () => {
  it('creates a template and reads it back', async () => {
    const res = await ctx
      .api()
      .post('/api/v1/templates')
      .send({ name: ' Quarterly ', mjml: newsletter });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/templates/${res.body.id}`);
    expect(res.body).toMatchObject({ name: 'Quarterly', mjml: newsletter, warnings: [] });
    expect(res.body.createdAt).toMatch(/Z$/);
    const read = await ctx.api().get(`/api/v1/templates/${res.body.id}`);
    expect(read.status).toBe(200);
    const { warnings: _warnings, ...stored } = res.body;
    expect(read.body).toEqual(stored);
  });

  it('returns warnings for what it accepts but looks wrong', async () => {
    const created = await create(
      'No slot',
      '<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>',
    );
    expect(created.warnings).toEqual([
      expect.stringContaining('no {{ content }}'),
      expect.stringContaining('neither {{ unsubscribe_url }} nor {{ preferences_url }}'),
    ]);
  });

  it('pages through templates with a cursor, without their MJML', async () => {
    for (const n of [1, 2, 3]) await create(`Paged ${n}`);
    const first = await ctx.api().get('/api/v1/templates?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.data[0]).toEqual({
      id: expect.any(Number),
      name: expect.any(String),
      mjmlBytes: expect.any(Number),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(first.body.next).toEqual(expect.any(String));
    const seen = [...first.body.data];
    let next: string | null = first.body.next;
    while (next) {
      const page = await ctx.api().get(`/api/v1/templates?limit=2&after=${next}`);
      seen.push(...page.body.data);
      next = page.body.next;
    }
    const ids = seen.map((t: { id: number }) => t.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM templates');
    expect(ids).toHaveLength(rows[0].n);
  });

  it('updates only the fields given, and validates new MJML', async () => {
    const created = await create('Before');
    const renamed = await ctx
      .api()
      .patch(`/api/v1/templates/${created.id}`)
      .send({ name: 'After' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'After', mjml: created.mjml });

    const bad = await ctx
      .api()
      .patch(`/api/v1/templates/${created.id}`)
      .send({ mjml: simple().replace('</mj-column>', '') });
    expect(bad.status).toBe(422);
    const still = await ctx.api().get(`/api/v1/templates/${created.id}`);
    expect(still.body.mjml).toBe(created.mjml);

    const good = await ctx
      .api()
      .patch(`/api/v1/templates/${created.id}`)
      .send({ mjml: simple('Bonjour {{ subscriber.name }}') });
    expect(good.status).toBe(200);
    expect(good.body.mjml).toContain('Bonjour');
    expect(Date.parse(good.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.createdAt));
  });

  it('refuses invalid MJML with 422 and the errors with their line numbers', async () => {
    const mjml = simple().replace(
      '<mj-section><mj-column>',
      '<mj-section><mj-text>loose</mj-text><mj-column>',
    );
    const res = await ctx.api().post('/api/v1/templates').send({ name: 'Broken', mjml });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 422, code: 'unprocessable' });
    expect(res.body.errors).toEqual([
      {
        path: 'mjml',
        message: expect.stringMatching(
          /^line 3: mj-text cannot be used inside mj-section.*\(mj-text\)$/,
        ),
      },
    ]);
  });

  it.each([
    [
      'Liquid around an MJML tag',
      simple()
        .replace('<mj-section>', '{% if x %}<mj-section>')
        .replace('{{ content }}', '{% endif %}{{ content }}'),
      /is inside \{% if %\}/,
    ],
    ['an include', simple('{% include "/etc/passwd" %}'), /\{% include %\} is not allowed/],
    [
      'mj-include',
      simple().replace('<mj-body>', '<mj-body><mj-include path="/etc/passwd" />'),
      /mj-include is not supported/,
    ],
    ['a Liquid syntax error', simple('{{ subscriber.name | upcase'), /\(liquid\)$/],
    ['an unknown filter', simple('{{ "x" | constructor }}'), /undefined filter/],
    ['not MJML at all', '<html><body>Hi</body></html>', /not a valid MJML document/],
  ])('refuses %s with 422', async (_label, mjml, message) => {
    const before = await ctx.db.query('SELECT count(*)::int AS n FROM templates');
    const res = await ctx.api().post('/api/v1/templates').send({ name: 'Refused', mjml });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([{ path: 'mjml', message: expect.stringMatching(message) }]),
    );
    const after = await ctx.db.query('SELECT count(*)::int AS n FROM templates');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it.each([
    [{ mjml: simple() }, 'name', 'is required'],
    [{ name: '', mjml: simple() }, 'name', 'is required'],
    [{ name: 'a\r\nb', mjml: simple() }, 'name', 'line breaks'],
    [{ name: 'x'.repeat(201), mjml: simple() }, 'name', 'at most 200'],
    [{ name: 'ok' }, 'mjml', 'is required'],
    [{ name: 'ok', mjml: '' }, 'mjml', 'is required'],
    [{ name: 'ok', mjml: simple(), subject: 'no' }, 'subject', 'is not a known field'],
    [{ name: 'ok', mjml: simple(`<!-- ${'x'.repeat(530_000)} -->`) }, 'mjml', 'at most 512 KB'],
  ])('refuses %j with 400 naming %s', async (body, field, message) => {
    const res = await ctx.api().post('/api/v1/templates').send(body);
    expect(res.status).toBe(400);
    const error = res.body.errors.find((e: { path: string }) => e.path === field);
    expect(error, JSON.stringify(res.body.errors)).toBeDefined();
    expect(error.message).toContain(message);
  });

  it('answers 404 for a template that does not exist', async () => {
    expect((await ctx.api().get('/api/v1/templates/999999')).status).toBe(404);
    expect((await ctx.api().patch('/api/v1/templates/999999').send({ name: 'x' })).status).toBe(
      404,
    );
    expect((await ctx.api().delete('/api/v1/templates/999999')).status).toBe(404);
    expect((await ctx.api().post('/api/v1/templates/999999/preview').send({})).status).toBe(404);
  });

  it('deletes an unused template', async () => {
    const created = await create('Unused');
    expect((await ctx.api().delete(`/api/v1/templates/${created.id}`)).status).toBe(204);
    expect((await ctx.api().get(`/api/v1/templates/${created.id}`)).status).toBe(404);
  });

  it('refuses with 409 to delete a template a campaign uses', async () => {
    const created = await create('In use');
    const { rows } = await ctx.db.query(
      `INSERT INTO campaigns (name, subject, template_id) VALUES ('Q1', 'Subject', $1) RETURNING id`,
      [created.id],
    );
    const res = await ctx.api().delete(`/api/v1/templates/${created.id}`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'conflict', campaignIds: [rows[0].id] });
    expect((await ctx.api().get(`/api/v1/templates/${created.id}`)).status).toBe(200);
  });
});

describe('preview', () => {
  it('renders sample values, escaped, with a placeholder where the content goes', async () => {
    const created = await create('Preview');
    const res = await ctx.api().post(`/api/v1/templates/${created.id}/preview`).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      subject: 'Sample campaign',
      html: expect.stringContaining('Hello Alex Example'),
      text: expect.stringContaining('Hello Alex Example'),
      warnings: [],
    });
    expect(res.body.html).toContain('This is where the campaign content goes');
    expect(res.body.html).toContain(`href="${ctx.config.publicUrl}/unsubscribe/preview"`);
    expect(res.body.html).not.toMatch(/\{\{|\{%/);
  });

  it('uses the given subscriber, campaign and content', async () => {
    const created = await create('Quarterly preview', newsletter);
    const res = await ctx
      .api()
      .post(`/api/v1/templates/${created.id}/preview`)
      .send({
        subscriber: { name: '<b>Ada</b>', email: 'ada@example.org' },
        campaign: {
          subject: 'Newsletter {{ campaign.data.period }} for {{ subscriber.name }}',
          data: { period: '2017 — 1st quarter', contactEmail: 'info@example.org' },
        },
        content: quarterly,
      });
    expect(res.status).toBe(200);
    expect(res.body.subject).toBe('Newsletter 2017 — 1st quarter for <b>Ada</b>');
    expect(res.body.html).toContain('2017 — 1st quarter');
    expect(res.body.html).toContain('Regional workshop on groundwater');
    expect(res.body.html).toContain('ada@example.org');
    expect(res.body.text).toContain('info@example.org');
    expect(res.body.warnings).toEqual([]);
  });

  it('escapes recipient data in the HTML', async () => {
    const created = await create('Escaping');
    const res = await ctx
      .api()
      .post(`/api/v1/templates/${created.id}/preview`)
      .send({ subscriber: { name: '<img src=x onerror=alert(1)>' } });
    expect(res.body.html).toContain('Hello &lt;img src=x onerror=alert(1)&gt;');
    expect(res.body.text).toContain('Hello <img src=x onerror=alert(1)>');
  });

  it('warns about unknown merge tags, which render empty', async () => {
    const created = await create(
      'Unknown',
      simple('Hi {{ subscriber.nickname }} {{ campaign.data.ok }}'),
    );
    const res = await ctx.api().post(`/api/v1/templates/${created.id}/preview`).send({});
    expect(res.body.warnings).toEqual([
      '{{ subscriber.nickname }} is not a merge variable: it renders empty',
    ]);
    expect(res.body.html).toContain('Hi  ');
  });

  it('answers 422 for content that cannot be compiled, naming the content', async () => {
    const created = await create('Bad content');
    const res = await ctx.api().post(`/api/v1/templates/${created.id}/preview`).send({
      content: '<mj-section><mj-column><mj-text>x</mj-column></mj-section>',
      contentType: 'mjml',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ path: 'content' });
  });

  it('refuses unknown fields in the preview body', async () => {
    const created = await create('Strict');
    const res = await ctx
      .api()
      .post(`/api/v1/templates/${created.id}/preview`)
      .send({ subscriber: { name: 'a', evil: true } });
    expect(res.status).toBe(400);
  });
});

describe('scopes', () => {
  async function token(scopes: string[]) {
    const res = await ctx.api().post('/api/v1/tokens').send({ name: 'scoped', scopes });
    expect(res.status).toBe(201);
    const value = res.body.token as string;
    return {
      get: (url: string) => ctx.http.get(url).set('Authorization', `Bearer ${value}`),
      post: (url: string) => ctx.http.post(url).set('Authorization', `Bearer ${value}`),
      delete: (url: string) => ctx.http.delete(url).set('Authorization', `Bearer ${value}`),
    };
  }

  it('lets `read` list and read but not write or preview', async () => {
    const created = await create('Scoped');
    const reader = await token(['read']);
    expect((await reader.get('/api/v1/templates')).status).toBe(200);
    expect((await reader.get(`/api/v1/templates/${created.id}`)).status).toBe(200);
    expect(
      (await reader.post('/api/v1/templates').send({ name: 'x', mjml: simple() })).status,
    ).toBe(403);
    expect((await reader.post(`/api/v1/templates/${created.id}/preview`).send({})).status).toBe(
      403,
    );
    expect((await reader.delete(`/api/v1/templates/${created.id}`)).status).toBe(403);
  });

  it('lets `templates:write` write; other write scopes may not', async () => {
    const writer = await token(['templates:write']);
    expect(
      (await writer.post('/api/v1/templates').send({ name: 'w', mjml: simple() })).status,
    ).toBe(201);
    const other = await token(['campaigns:write', 'subscribers:write']);
    expect((await other.post('/api/v1/templates').send({ name: 'w', mjml: simple() })).status).toBe(
      403,
    );
  });

  it('is in the OpenAPI document', async () => {
    const res = await ctx.http.get('/api/v1/openapi.json');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/templates',
        '/api/v1/templates/{id}',
        '/api/v1/templates/{id}/preview',
      ]),
    );
    expect(res.body.components.schemas).toHaveProperty('Template');
  });
});
