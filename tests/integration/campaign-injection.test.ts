// Hostile data in a real send (docs/contract.md §3 and §6): CR/LF never reaches a header, Liquid cannot
// reach past a variable's own properties, a template cannot read a file, and HTML in a name is
// shown as text. Everything is checked in what the SMTP server actually received.
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { messagesOf } from '../helpers/fleet.js';
import {
  assertNoInjectedHeaders,
  BCC,
  EVIL,
  headerFields,
  injectionTools,
  names,
} from '../helpers/injection.js';

const suite = mailSuite({ env: { SMTP_POOL_SIZE: '2' }, resetSink: true });
const { ctx, sink } = suite;

const { insertSubscribers, sendAndFinish } = injectionTools(ctx);

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
      "SELECT attributes->>'city' AS city FROM subscribers WHERE email_key = lower('imported@example.test')",
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
      'SELECT attributes::text AS a FROM subscribers WHERE email_key = lower($1)',
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
