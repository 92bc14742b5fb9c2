// Hostile data in a real send (docs/contract.md §3 and §6): CR/LF never reaches a header, Liquid cannot
// reach past a variable's own properties, a template cannot read a file, and HTML in a name is
// shown as text. Everything is checked in what the SMTP server actually received.
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { messagesOf } from '../helpers/fleet.js';
import type { ReceivedMessage } from '../helpers/smtp-sink.js';

const suite = mailSuite({ env: { SMTP_POOL_SIZE: '2' }, resetSink: true });
const { ctx, sink } = suite;

const EVIL = 'evil@x.test';
const BCC = `\r\nBcc: ${EVIL}`;

let seq = 0;
/** Subscribers inserted as they are, past the API's checks (old data, another tool, a bug). */
async function insertSubscribers(
  people: { name: string; attributes?: Record<string, unknown> }[],
): Promise<{ list: number; emails: string[] }> {
  seq++;
  const list = await fixtures.createList(ctx, `Hostile ${seq}`);
  const emails = people.map((_, i) => `h${seq}p${i}@example.test`);
  const { rows } = await ctx.db.query<{ id: number }>(
    `INSERT INTO subscribers (email, name, attributes)
     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) RETURNING id`,
    [emails, people.map((p) => p.name), people.map((p) => JSON.stringify(p.attributes ?? {}))],
  );
  await fixtures.subscribe(
    ctx,
    list,
    rows.map((r) => r.id),
  );
  return { list, emails };
}

async function sendAndFinish(campaignId: number) {
  const started = await ctx.api().post(`/api/v1/campaigns/${campaignId}/send`);
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  await waitFor(async () => (await fixtures.campaignStatus(ctx, campaignId)) === 'finished', {
    timeoutMs: 30_000,
  });
}

/** The header block as received, with folded lines joined: one entry per header field. */
function headerFields(raw: string): string[] {
  const head = raw.slice(0, raw.search(/\r?\n\r?\n/));
  return head.split(/\r?\n(?![ \t])/).map((field) => field.replace(/\r?\n[ \t]+/g, ' '));
}

function names(fields: string[]): string[] {
  return fields.map((f) => f.slice(0, f.indexOf(':')).toLowerCase());
}

async function assertNoInjectedHeaders(messages: ReceivedMessage[], audience: string[]) {
  // Only the audience got anything, once each: no Bcc or extra envelope recipient.
  expect(messages.map((m) => m.to).sort()).toEqual([...audience].sort());
  for (const m of messages) {
    const fields = headerFields(m.raw);
    const fieldNames = names(fields);
    expect(fieldNames, m.to).not.toContain('bcc');
    expect(fieldNames, m.to).not.toContain('cc');
    expect(fieldNames, m.to).not.toContain('x-injected');
    for (const once of ['from', 'to', 'subject', 'message-id', 'reply-to', 'content-type']) {
      expect(fieldNames.filter((n) => n === once).length, `${once} in ${m.to}`).toBeLessThan(2);
    }
    const parsed = await PostalMime.parse(m.raw);
    expect(
      parsed.to?.map((a) => ('address' in a ? a.address : undefined)),
      m.to,
    ).toEqual([m.to]);
    expect(parsed.cc ?? [], m.to).toEqual([]);
    expect(parsed.bcc ?? [], m.to).toEqual([]);
    expect(parsed.from && 'address' in parsed.from ? parsed.from.address : '', m.to).toBe(
      'news@bulletin.test',
    );
    // Decoded as a mail client shows it: one line (see the encoded-word test below).
    expect(parsed.subject ?? '', m.to).not.toMatch(/[\r\n]/);
    // Nothing turned part of the body into a header of its own, and the structure held.
    expect(m.headers.get('content-type'), m.to).toMatch(/^multipart\/alternative/);
    expect(m.html, m.to).not.toContain('body takeover</html>');
  }
}

describe('header injection', () => {
  it('the API refuses CR/LF in names, subjects and sender names', async () => {
    const sub = await ctx
      .api()
      .post('/api/v1/subscribers')
      .send({ email: 'crlf@example.test', name: `Eve${BCC}` });
    expect(sub.status).toBe(400);
    expect(sub.body.errors).toEqual([expect.objectContaining({ path: 'name' })]);
    for (const field of ['subject', 'fromName', 'name']) {
      const res = await ctx
        .api()
        .post('/api/v1/campaigns')
        .send({
          name: 'x',
          subject: 'x',
          templateId: suite.templateId,
          listIds: [1],
          [field]: `X${BCC}`,
        });
      expect(res.status, field).toBe(400);
      expect(res.body.errors, field).toEqual([expect.objectContaining({ path: field })]);
    }
  });

  it('hostile names, attributes, campaign data and sender name add no header and no recipient', async () => {
    const people = [
      { name: `Eve${BCC}`, attributes: { city: `Paris${BCC}\r\nX-Injected: 1` } },
      { name: 'Mallory\nX-Injected: yes', attributes: { city: '\r\n\r\n<html>body takeover' } },
      { name: `"Evil" <${EVIL}>`, attributes: { city: `<${EVIL}>` } },
      { name: `Bob, ${EVIL}`, attributes: { city: `a\rBcc: ${EVIL}` } },
      { name: `Carol\u2028Bcc: ${EVIL}`, attributes: { city: `x\u0085Bcc: ${EVIL}` } },
    ];
    const { list, emails } = await insertSubscribers(people);

    // Attribute values with line breaks arrive the ordinary way too: a quoted CSV cell.
    const csv = `email,name,city\r\nimported@example.test,Imported,"Bern\r\nBcc: ${EVIL}\r\nX-Injected: 1"\r\n`;
    const posted = await ctx
      .api()
      .post(`/api/v1/lists/${list}/imports?mode=upsert`)
      .set('Content-Type', 'text/csv')
      .send(csv);
    expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    await waitFor(
      async () => (await ctx.api().get(`/api/v1/imports/${posted.body.id}`)).body.status === 'done',
    );
    const { rows: imported } = await ctx.db.query(
      "SELECT attributes->>'city' AS city FROM subscribers WHERE email = 'imported@example.test'",
    );
    expect(imported[0].city).toContain('\r\nBcc:');

    const campaign = await fixtures.createCampaign(ctx, {
      templateId: suite.templateId,
      listIds: [list],
      subject:
        'News for {{ subscriber.name }} in {{ subscriber.attributes.city }}{{ campaign.data.tail }}',
      data: { tail: `${BCC}\r\nX-Injected: from-data` },
      replyTo: 'replies@bulletin.test',
    });
    // A sender name the API would refuse, written straight to the database.
    await ctx.db.query('UPDATE campaigns SET from_name = $2 WHERE id = $1', [
      campaign.id,
      `The Secretariat${BCC}\r\nX-Injected: from-name`,
    ]);
    await sendAndFinish(campaign.id);

    const rows = await fixtures.ledger(ctx, campaign.id);
    const audience = [...emails, 'imported@example.test'];
    expect(rows.map((r) => [r.email, r.status, r.last_error])).toEqual(
      audience.map((e) => [e, 'sent', null]),
    );
    const messages = messagesOf(sink, campaign.uuid);
    await assertNoInjectedHeaders(messages, audience);
    expect(sink.messages.some((m) => m.to === EVIL)).toBe(false);
    // The data is still there, as harmless text on one line.
    const eve = messages.find((m) => m.to === emails[0])!;
    expect(eve.subject).toContain(`Bcc: ${EVIL}`);
    expect(eve.subject).toMatch(/^News for Eve Bcc: evil@x\.test in Paris/);
    const from = headerFields(eve.raw).find((f) => /^from:/i.test(f))!;
    expect(from).toContain('news@bulletin.test');
  });

  it('an RFC 2047 encoded word in data does not decode to CR/LF in what the reader sees', async () => {
    // No control character anywhere, so every check lets it through; but the text is an
    // encoded word, and a mail client decodes `=0D=0A` to CR/LF in the displayed header.
    const smuggled = `=?utf-8?Q?Dave=0D=0ABcc:_${EVIL}?=`;
    const { list, emails } = await insertSubscribers([
      { name: smuggled, attributes: { city: smuggled } },
    ]);
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: suite.templateId,
      listIds: [list],
      subject: 'News for {{ subscriber.attributes.city }}',
      fromName: smuggled, // accepted by the API: plain ASCII
    });
    await sendAndFinish(campaign.id);
    expect((await fixtures.ledger(ctx, campaign.id)).map((r) => r.status)).toEqual(['sent']);
    const [m] = messagesOf(sink, campaign.uuid);
    // On the wire nothing was injected: no extra field, no extra recipient.
    expect(m!.to).toBe(emails[0]);
    expect(names(headerFields(m!.raw))).not.toContain('bcc');
    // As the reader's client decodes it. src/mail/message.ts passes the literal `=?…?=` through
    // unencoded (nodemailer only encodes non-ASCII), so it decodes to "Dave\r\nBcc: …".
    const parsed = await PostalMime.parse(m!.raw);
    const shown = {
      subject: parsed.subject,
      to: parsed.to?.map((a) => a.name),
      from: parsed.from?.name,
    };
    expect(
      JSON.stringify(shown),
      'data must not decode to CR/LF in Subject, To or From as a mail client reads them',
    ).not.toMatch(/\\r|\\n/);
  });

  it('a sender name with quotes or angle brackets stays a display name (the mail still goes)', async () => {
    const { list, emails } = await insertSubscribers([{ name: 'Reader' }]);
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: suite.templateId,
      listIds: [list],
      // Accepted by the API: no control characters.
      fromName: `Verein "Freunde" <${EVIL}>`,
    });
    await sendAndFinish(campaign.id);
    const rows = await fixtures.ledger(ctx, campaign.id);
    // src/services/delivery.service.ts parseMailbox() cannot split `Verein "Freunde" <evil@x.test>
    // <news@bulletin.test>` back into name and address; the whole string becomes the address and
    // the delivery fails as unsendable ("from is not a single plain address").
    expect(
      rows.map((r) => [r.status, r.last_error]),
      'a fromName with quotes/angle brackets must not make every delivery fail',
    ).toEqual([['sent', null]]);
    const messages = messagesOf(sink, campaign.uuid);
    await assertNoInjectedHeaders(messages, emails);
    const parsed = await PostalMime.parse(messages[0]!.raw);
    expect(parsed.from).toMatchObject({
      address: 'news@bulletin.test',
      name: `Verein "Freunde" <${EVIL}>`,
    });
  });
});

describe('Liquid', () => {
  it('probes of constructors and prototypes render nothing harmful in a real send', async () => {
    const { list, emails } = await insertSubscribers([
      { name: 'Probe', attributes: { city: 'Basel', nested: { a: 1 } } },
      // Keys a JSON import can carry: own "__proto__" and "constructor" properties.
      {
        name: 'Polluter',
        attributes: JSON.parse(
          '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
        ),
      },
    ]);
    const { rows: stored } = await ctx.db.query(
      'SELECT attributes::text AS a FROM subscribers WHERE email = $1',
      [emails[1]],
    );
    expect(stored[0].a).toContain('"__proto__"');
    const probes = [
      'subscriber.constructor',
      'subscriber.__proto__',
      'campaign.data.constructor.name',
      'subscriber.constructor.constructor',
      'subscriber.attributes.constructor',
      'subscriber.email.constructor.name',
      'campaign.constructor.name',
      'subscriber.name.__proto__',
      'list.toString',
      'subscriber.attributes.nested.__proto__.hasOwnProperty',
    ];
    const content = probes.map((p, i) => `probe${i}=({{ ${p} }})`).join('\n\n');
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: suite.templateId,
      listIds: [list],
      subject: 'S({{ subscriber.constructor.name }})({{ campaign.data.constructor }})',
      content,
      data: { x: 1 },
    });
    await sendAndFinish(campaign.id);
    expect((await fixtures.ledger(ctx, campaign.id)).map((r) => r.status)).toEqual([
      'sent',
      'sent',
    ]);
    const m = messagesOf(sink, campaign.uuid).find((x) => x.to === emails[0]);
    expect(m!.subject).toBe('S()()');
    for (const [i] of probes.entries()) {
      expect(m!.html, probes[i]).toContain(`probe${i}=()`);
      expect(m!.text, probes[i]).toContain(`probe${i}=()`);
    }
    for (const part of [m!.html, m!.text, m!.subject]) {
      expect(part).not.toMatch(/function|native code|\[object|Object\]|prototype/i);
    }
    // Rendering the polluter's data touched no prototype of this process (the workers run in it).
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('file access from templates', () => {
  const INCLUDE_BODY = fixtures.MINIMAL_MJML.replace(
    '{{ content }}',
    '<mj-include path="/etc/passwd" />\n      {{ content }}',
  );
  const INCLUDE_HEAD = fixtures.MINIMAL_MJML.replace(
    '<mj-body>',
    '<mj-head><mj-include path="/etc/passwd" type="css" /></mj-head>\n  <mj-body>',
  );
  const INCLUDE_HTML = fixtures.MINIMAL_MJML.replace(
    '{{ content }}',
    '<mj-include path="/etc/passwd" type="html" />\n      {{ content }}',
  );

  it('a template with <mj-include> or {% include %} is refused when saved', async () => {
    const sources = {
      INCLUDE_BODY,
      INCLUDE_HEAD,
      INCLUDE_HTML,
      liquidInclude: fixtures.MINIMAL_MJML.replace('{{ content }}', "{% include '/etc/passwd' %}"),
      liquidRender: fixtures.MINIMAL_MJML.replace(
        'Hello',
        "Hello {% render '../../../../etc/passwd' %}",
      ),
    };
    for (const [label, mjml] of Object.entries(sources)) {
      const res = await ctx.api().post('/api/v1/templates').send({ name: label, mjml });
      expect(res.status, label).toBe(422);
      expect(JSON.stringify(res.body), label).not.toContain('root:');
      expect(res.body.errors?.[0]?.path, label).toBe('mjml');
    }
  });

  it('one already stored, or in the campaign content, is refused at send time or has no effect', async () => {
    const { list, emails } = await insertSubscribers([{ name: 'Reader' }]);
    const outputs: string[] = [];
    type Attempt = {
      templateId: number;
      content?: string;
      contentType?: 'markdown' | 'mjml';
      expect: 'refused' | 'sent';
    };
    const attempts: Attempt[] = [];
    for (const mjml of [INCLUDE_BODY, INCLUDE_HEAD, INCLUDE_HTML]) {
      attempts.push({ templateId: await fixtures.createTemplate(ctx, mjml), expect: 'refused' });
    }
    attempts.push({
      templateId: suite.templateId,
      content: '<mj-text>before</mj-text><mj-include path="/etc/passwd" /><mj-text>after</mj-text>',
      contentType: 'mjml',
      expect: 'refused',
    });
    attempts.push({
      templateId: suite.templateId,
      content: "Read {% include '/etc/passwd' %} this",
      expect: 'refused',
    });
    // Markdown that merely mentions the tag: shown as text, harmless, so it goes out.
    attempts.push({
      templateId: suite.templateId,
      content: '<mj-include path="/etc/passwd" />',
      expect: 'sent',
    });

    for (const { expect: expected, ...attempt } of attempts) {
      const campaign = await fixtures.createCampaign(ctx, { listIds: [list], ...attempt });
      const preflight = await ctx.api().get(`/api/v1/campaigns/${campaign.id}/preflight`);
      outputs.push(JSON.stringify(preflight.body));
      const preview = await ctx
        .api()
        .post(`/api/v1/templates/${attempt.templateId}/preview`)
        .send(
          attempt.content
            ? { content: attempt.content, contentType: attempt.contentType ?? 'markdown' }
            : {},
        );
      outputs.push(JSON.stringify(preview.body));
      const test = await ctx
        .api()
        .post(`/api/v1/campaigns/${campaign.id}/test`)
        .send({ emails: ['tester@example.test'] });
      outputs.push(JSON.stringify(test.body));
      const send = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`);
      outputs.push(JSON.stringify(send.body));
      if (expected === 'sent') {
        expect(send.status, JSON.stringify(attempt)).toBe(200);
        await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'finished');
      } else {
        expect(preflight.body.ok, JSON.stringify(attempt)).toBe(false);
        expect([test.status, send.status], JSON.stringify(attempt)).toEqual([422, 422]);
        expect(await fixtures.campaignStatus(ctx, campaign.id)).toBe('draft');
      }
    }
    outputs.push(...sink.messages.map((m) => m.raw));
    // A Markdown content that merely mentions mj-include went out, as text.
    expect(sink.messages.some((m) => emails.includes(m.to))).toBe(true);
    for (const output of outputs) expect(output).not.toMatch(/root:[^:]*:0:0:/);
  });
});

describe('HTML in data', () => {
  it('a subscriber named <img src=x onerror=alert(1)> is escaped in the HTML part', async () => {
    const mjml = fixtures.MINIMAL_MJML.replace(
      '{{ content }}',
      '<mj-image src="https://example.org/logo.png" alt="Logo for {{ subscriber.name }}" />\n      {{ content }}',
    );
    const template = await ctx.api().post('/api/v1/templates').send({ name: 'alt', mjml });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const list = await fixtures.createList(ctx, 'Markup');
    const created = [];
    for (const [email, name, city] of [
      ['img@example.test', '<img src=x onerror=alert(1)>', 'Zug'],
      ['quote@example.test', 'x" onerror="alert(2)', '"><script>alert(3)</script>'],
    ]) {
      const res = await ctx
        .api()
        .post('/api/v1/subscribers')
        .send({ email, name, attributes: { city }, lists: [list] });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      created.push(res.body.id);
    }
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: template.body.id,
      listIds: [list],
      subject: 'Hello {{ subscriber.name }}',
    });
    await sendAndFinish(campaign.id);
    const byTo = new Map(messagesOf(sink, campaign.uuid).map((m) => [m.to, m]));
    expect(byTo.size).toBe(2);

    const img = byTo.get('img@example.test')!;
    expect(img.html).toContain('Hello &lt;img src=x onerror=alert(1)&gt;');
    expect(img.html).not.toContain('<img src=x');
    expect(img.html).toMatch(/alt="Logo for &lt;img src=x onerror=alert\(1\)&gt;"/);
    // The subject and the text part are not HTML: there the name is as written.
    expect(img.subject).toBe('Hello <img src=x onerror=alert(1)>');

    const quote = byTo.get('quote@example.test')!;
    expect(quote.html).not.toContain('<script>');
    expect(quote.html).not.toMatch(/" onerror="alert/);
    expect(quote.html).toContain('&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(quote.html).toMatch(/alt="Logo for x&#34; onerror=&#34;alert\(2\)"/);
  });
});
