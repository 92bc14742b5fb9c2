// Who is writing to me? ORG_NAME and ORG_ADDRESS name the sender on the public pages, in the
// confirmation mail (its From name and its footer) and in the newsletter's default footer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';

const ORG_NAME = 'Secretariat of the <Example> Convention';
const ORG_ADDRESS = "Rue de l'Exemple 1, 1200 Geneva, Switzerland";

const { ctx, sink } = mailSuite({ env: { ORG_NAME, ORG_ADDRESS }, workers: false });

const escaped = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;');

describe('the organisation', () => {
  it('is named, escaped, on every public page', async () => {
    const { rows } = await ctx.db.query<{ uuid: string }>(
      "INSERT INTO subscribers (email) VALUES ('org@example.test') RETURNING uuid",
    );
    const prefs = ctx.container.services.links.path('preferences', rows[0]!.uuid);
    const unsub = ctx.container.services.links.path('unsubscribe', rows[0]!.uuid);
    for (const url of ['/subscribe', prefs, unsub, '/preferences/forged.token']) {
      const res = await ctx.http.get(url);
      expect(res.text, url).toContain(escaped(ORG_NAME));
      expect(res.text, url).toContain(escaped(ORG_ADDRESS));
      expect(res.text).not.toContain('<Example>');
    }
  });

  it('sends the confirmation mail under its name, and names it in the mail', async () => {
    const { rows } = await ctx.db.query<{ uuid: string }>(
      "INSERT INTO lists (name, optin, visibility) VALUES ('Updates', 'double', 'public') RETURNING uuid",
    );
    const res = await ctx.http
      .post('/subscribe')
      .type('form')
      .send(new URLSearchParams({ email: 'joiner@example.test', lists: rows[0]!.uuid }).toString());
    expect(res.status).toBe(200);
    const mail = await waitFor(() =>
      Promise.resolve(sink.messages.find((m) => m.to === 'joiner@example.test')),
    );
    expect(mail.headers.get('from')).toContain('Secretariat of the');
    expect(mail.text).toContain(ORG_NAME);
    expect(mail.text).toContain(ORG_ADDRESS);
  });

  it("fills the newsletter template's masthead and footer when the campaign's data does not", async () => {
    const mjml = readFileSync(path.join(packageRoot(), 'templates', 'newsletter.mjml'), 'utf8');
    const created = await ctx.api().post('/api/v1/templates').send({ name: 'Quarterly', mjml });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const preview = await ctx.api().post(`/api/v1/templates/${created.body.id}/preview`).send({});
    expect(preview.status).toBe(200);
    expect(preview.body.text).toContain(ORG_ADDRESS);
    expect(preview.body.text).toContain(ORG_NAME.toUpperCase());
    expect(preview.body.warnings.join(' ')).not.toMatch(/org\./);
  });
});
