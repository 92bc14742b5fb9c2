// The public archive and "view in browser" (docs/engagement.md): campaigns with `archive` that
// went out are listed newest first, shown to a neutral reader (no name, address or personal
// token of anyone), cacheable with the public pages' CSP, and in a well-formed Atom feed.
// The archive_url of a delivered mail is the archive page.
import sax from 'sax';
import { beforeAll, describe, expect, it } from 'vitest';
import { mailSuite } from '../helpers/suite.js';

const MJML = `<mjml>
  <mj-body>
    <mj-section><mj-column>
      <mj-text>Dear {{ subscriber.name }} ({{ subscriber.email }}). <a href="{{ archive_url }}">View in your browser</a></mj-text>
      {{ content }}
      <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Preferences</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;

const suite = mailSuite();
let readers: Awaited<ReturnType<typeof suite.audience>>;
/** The readers' names, addresses and uuids: none may appear on a public page. */
let names: string[];

async function sendArchived(name: string, body: Record<string, unknown>) {
  const campaign = await suite.send([readers.list], {
    templateId,
    name,
    subject: `${name} for {{ subscriber.name }}`,
    content: 'See [the agenda](https://example.org/agenda).',
    tracking: { opens: true, clicks: true },
    ...body,
  });
  expect(await suite.finished(campaign.id)).toBe(true);
  return campaign;
}

let templateId: number;
beforeAll(async () => {
  const t = await suite.ctx.api().post('/api/v1/templates').send({ name: 'Archive', mjml: MJML });
  templateId = t.body.id as number;
  readers = await suite.audience(2, 'Archive readers');
  const { rows } = await suite.ctx.db.query<{ name: string; email: string; uuid: string }>(
    'SELECT name, email, uuid::text AS uuid FROM subscribers WHERE id = ANY($1)',
    [readers.ids],
  );
  names = rows.flatMap((r) => [r.name, r.email, r.uuid]);
  await sendArchived('Winter 2026', { archive: true, archiveSlug: 'winter-2026' });
  await sendArchived('Spring 2027', { archive: true });
  await sendArchived('Internal memo', {});
  // Archived but never sent: not in the archive.
  await suite.draft([readers.list], { name: 'Draft', archive: true, archiveSlug: 'draft-one' });
}, 120_000);

describe('the archive', () => {
  it('lists the archived campaigns that went out, newest first, cacheable', async () => {
    const res = await suite.ctx.http.get('/archive').expect(200);
    const slugs = [...res.text.matchAll(/href="\/archive\/([a-z0-9-]+)"/g)].map((m) => m[1]);
    expect(slugs).toEqual(['spring-2027', 'winter-2026']);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("style-src 'self'");
    expect(res.text).toContain('Spring 2027 for');
    for (const personal of names) expect(res.text).not.toContain(personal);
  });

  it('shows one newsletter for a neutral reader: no subscriber data, no personal link', async () => {
    const page = await suite.ctx.http.get('/archive/winter-2026').expect(200);
    expect(page.text).toContain('src="/archive/winter-2026/message"');
    const message = await suite.ctx.http.get('/archive/winter-2026/message').expect(200);
    expect(message.headers['cache-control']).toBe('public, max-age=300');
    expect(message.text).toContain('href="https://example.org/agenda"');
    expect(message.text).toContain('/subscribe');
    expect(message.text).not.toMatch(/\/(unsubscribe|preferences|l|o|view)\/[A-Za-z0-9_-]{6}\./);
    for (const personal of names) expect(message.text).not.toContain(personal);
  });

  it('answers unknown, draft and malformed slugs with the 404 page', async () => {
    for (const path of [
      '/archive/nope',
      '/archive/draft-one',
      '/archive/Winter-2026',
      '/archive/a%2Fb',
    ])
      expect((await suite.ctx.http.get(path)).status, path).toBe(404);
  });

  it('links each delivered mail to its archive page', () => {
    const mails = suite.sink.messages.filter((m) => m.subject.startsWith('Winter 2026'));
    expect(mails).toHaveLength(2);
    for (const m of mails)
      expect(m.html).toContain('href="http://localhost:3000/archive/winter-2026"');
  });

  it('publishes an Atom feed that parses, one entry per archived campaign', async () => {
    const res = await suite.ctx.http.get('/archive/feed.xml').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/atom\+xml/);
    const parser = sax.parser(true, { xmlns: true });
    const open: string[] = [];
    const entries: string[] = [];
    let root = '';
    parser.onopentag = (tag) => {
      const t = tag as sax.QualifiedTag;
      if (!root) root = `${t.uri} ${t.local}`;
      open.push(t.local);
    };
    parser.onclosetag = () => void open.pop();
    parser.ontext = (text) => {
      if (open.at(-1) === 'title' && open.at(-2) === 'entry') entries.push(text.trim());
    };
    parser.write(String(res.text)).close();
    expect(root).toBe('http://www.w3.org/2005/Atom feed');
    expect(entries.map((t) => t.replace(/ for$/, ''))).toEqual(['Spring 2027', 'Winter 2026']);
    for (const personal of names) expect(res.text).not.toContain(personal);
  });
});

describe('the archive slug', () => {
  it('is validated and unique', async () => {
    const create = (extra: Record<string, unknown>) =>
      suite.ctx
        .api()
        .post('/api/v1/campaigns')
        .send({ name: 'X', subject: 'X', templateId, listIds: [readers.list], ...extra });
    const bad = await create({ archiveSlug: 'Not A Slug' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('archiveSlug');
    const taken = await create({ archive: true, archiveSlug: 'winter-2026' });
    expect(taken.status).toBe(409);
    expect(taken.body.errors).toEqual([
      { path: 'archiveSlug', message: 'is taken by another campaign' },
    ]);
  });
});
