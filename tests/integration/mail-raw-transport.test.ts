// The transport sends the message composeMessage builds (nodemailer `raw`) to a real SMTP
// server: the envelope, every header and both parts arrive, and DKIM still signs it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { newMessageId, type OutgoingMessage } from '../../src/mail/message.js';
import { createMailTransport, type MailTransport } from '../../src/mail/transport.js';
import { dkimSettings, expectCampaignSignature, verifyDkim } from '../helpers/dkim.js';
import { campaignFields } from '../helpers/messages.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const message = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: { name: 'Secrétariat du bulletin', address: 'news@bulletin.example.org' },
  to: { name: 'Doe, Jane', address: 'jane@example.org' },
  replyTo: 'contact@bulletin.example.org',
  subject: 'Quarterly newsletter — 2nd quarter 🎉',
  html: `<p>Hello Jane,</p>\n<p>${'Read more about the basin. '.repeat(20)}</p>\n.\n<p>Zoë</p>\n`,
  text: 'Hello Jane,\n\n.leading dot\nFrom the editor\n\nUnsubscribe: https://bulletin.example.org/u/tok\n',
  ...campaignFields(),
  ...over,
});

/** The header fields of a raw message, unfolded: [field line]. */
function headerLines(raw: string): string[] {
  return raw
    .slice(0, raw.indexOf('\r\n\r\n'))
    .split(/\r\n(?![ \t])/)
    .map((line) => line.replace(/\r\n[ \t]/g, ' '));
}

describe('the SMTP transport sending pre-built messages', () => {
  let sink: SmtpSink;
  const transports: MailTransport[] = [];
  const smtp = (env: Record<string, string> = {}) => {
    const transport = createMailTransport(
      loadConfig({
        env: {
          NODE_ENV: 'test',
          OUTBOX_DIR: mkdtempSync(path.join(tmpdir(), 'bulletin-raw-')),
          SMTP_URL: sink.url,
          ...env,
        },
      }),
    );
    transports.push(transport);
    return transport;
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterEach(() => {
    // pooled connections stay open until their transport closes
    for (const t of transports.splice(0)) t.close();
    sink.messages.length = 0;
  });
  afterAll(async () => {
    await sink.close();
  });

  it('delivers each message with its envelope, every header and both parts', async () => {
    const transport = smtp();
    expect(transport.kind).toBe('smtp');
    const sent = [
      message(),
      message({
        messageId: newMessageId('bulletin.example.org'),
        to: { name: 'Zoë O’Brien', address: 'zoe@example.org' },
        returnPath: undefined,
        oneClick: false,
        bulk: false,
        listId: undefined,
      }),
      message({
        messageId: newMessageId('bulletin.example.org'),
        to: { address: 'ada@example.org' },
        subject: 'Re: =?utf-8?q?not_decoded?=',
      }),
    ];
    for (const m of sent) {
      const result = await transport.send(m);
      expect(result.messageId).toBe(m.messageId);
      expect(result.response).toMatch(/^250/);
    }
    expect(sink.messages).toHaveLength(3);
    const [first, second, third] = sink.messages;

    expect(first!.from).toBe('bounce+tok.sig@bounces.example.org');
    expect(first!.to).toBe('jane@example.org');
    expect(first!.messageId).toBe(sent[0]!.messageId);
    expect(first!.subject).toBe('Quarterly newsletter — 2nd quarter 🎉');
    const headers = headerLines(first!.raw);
    expect(headers).toContain(
      'From: =?UTF-8?Q?Secr=C3=A9tariat_du_bulletin?= <news@bulletin.example.org>',
    );
    expect(headers).toContain('To: "Doe, Jane" <jane@example.org>');
    expect(headers).toContain('Reply-To: contact@bulletin.example.org');
    expect(headers).toContain(
      'List-Unsubscribe: <https://bulletin.example.org/unsubscribe/tok.sig>, <mailto:unsubscribe@bulletin.example.org?subject=unsubscribe>',
    );
    expect(headers).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(headers).toContain('List-Id: "Quarterly readers" <list-4.bulletin.example.org>');
    expect(headers).toContain('Precedence: bulk');
    expect(headers).toContain('Feedback-ID: 12:4:bulletin');
    expect(headers).toContain('X-Bulletin-Campaign: 0b7d8f38-6f1e-4f5e-9a53-9d1d2f0c7e11');
    expect(headers).toContain('MIME-Version: 1.0');
    expect(headers.some((h) => /^Date: \w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000$/.test(h))).toBe(
      true,
    );
    expect(headers.some((h) => /^Content-Type: multipart\/alternative; boundary="/.test(h))).toBe(
      true,
    );
    // both parts, as written: the SMTP client's dot-stuffing and the encoding undone (postal-mime
    // keeps the line break before a boundary, as it does for what nodemailer composes)
    expect(first!.text.trimEnd()).toBe(sent[0]!.text.trimEnd());
    expect(first!.html.trimEnd()).toBe(sent[0]!.html.trimEnd());
    expect(first!.raw.indexOf('text/plain')).toBeLessThan(first!.raw.indexOf('text/html'));

    // test and confirmation mail: no one-click, no bulk; the From address as envelope sender
    expect(second!.from).toBe('news@bulletin.example.org');
    expect(second!.to).toBe('zoe@example.org');
    expect(second!.headers.has('list-unsubscribe')).toBe(true);
    expect(second!.headers.has('list-unsubscribe-post')).toBe(false);
    expect(second!.headers.has('precedence')).toBe(false);
    expect(second!.headers.has('list-id')).toBe(false);

    expect(third!.to).toBe('ada@example.org');
    expect(headerLines(third!.raw)).toContain('To: ada@example.org');
    expect(third!.subject).toBe('Re: =?utf-8?q?not_decoded?=');
  });

  it('refuses a message it cannot send as given, before talking to the server', async () => {
    const transport = smtp();
    await expect(
      transport.send(message({ to: { address: 'jane@example.org\r\nRCPT TO:<x@evil.test>' } })),
    ).rejects.toMatchObject({ code: 'EMESSAGE', permanent: true });
    expect(sink.messages).toHaveLength(0);
  });

  it('signs the pre-built message with DKIM, covering List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const { env, publicPem } = dkimSettings();
    const transport = smtp(env);
    const sent = message();
    await transport.send(sent);
    expect(sink.messages).toHaveLength(1);
    const received = sink.messages[0]!;
    expect(received.from).toBe('bounce+tok.sig@bounces.example.org');
    expect(received.raw.startsWith('DKIM-Signature:')).toBe(true);

    const covered = expectCampaignSignature(received.raw, publicPem, [
      'feedback-id',
      'content-type',
    ]);
    // Oversigned: a second From, Subject or List-Unsubscribe added in transit breaks the
    // signature, wherever it is added; a field we never sign (a relay's trace) does not.
    for (const name of ['From', 'Subject', 'List-Unsubscribe', 'List-Unsubscribe-Post']) {
      expect(
        covered.filter((f) => f === name.toLowerCase()),
        name,
      ).toHaveLength(2);
    }
    const head = received.raw.indexOf('\r\n\r\n');
    const addField = (field: string) =>
      `${received.raw.slice(0, head)}\r\n${field}${received.raw.slice(head)}`;
    for (const field of [
      'From: Someone Else <ceo@elsewhere.example>',
      'Subject: Urgent: verify your account',
      'List-Unsubscribe: <https://attacker.example/u>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]) {
      expect(verifyDkim(addField(field), publicPem).ok, field).toBe(false);
    }
    expect(verifyDkim(addField('Received: from relay.example by mx.example'), publicPem).ok).toBe(
      true,
    );
  });
});
