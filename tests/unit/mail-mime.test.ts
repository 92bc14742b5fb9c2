import nodemailer from 'nodemailer';
import PostalMime, { type Email } from 'postal-mime';
import { describe, expect, it } from 'vitest';
import {
  formatListId,
  InvalidMessageError,
  newMessageId,
  toMailOptions,
  type OutgoingMessage,
} from '../../src/mail/message.js';
import { composeMessage } from '../../src/mail/mime.js';
import { newsletterHtml } from '../helpers/messages.js';

// ---------------------------------------------------------------------------------------------

const base = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: { name: 'Newsletter', address: 'news@bulletin.example.org' },
  to: { name: 'Ada', address: 'ada@example.org' },
  subject: 'Quarterly newsletter',
  html: '<p>Hello Ada</p>\n',
  text: 'Hello Ada\n',
  messageId: newMessageId('bulletin.example.org'),
  listUnsubscribe: { url: 'https://bulletin.example.org/unsubscribe/tok.sig' },
  oneClick: true,
  listId: formatListId('Quarterly readers', 4, 'bulletin.example.org'),
  bulk: true,
  feedbackId: '12:4:bulletin',
  campaignUuid: '0b7d8f38-6f1e-4f5e-9a53-9d1d2f0c7e11',
  ...over,
});

const nodemailerTransport = nodemailer.createTransport({
  streamTransport: true,
  buffer: true,
  newline: 'windows',
});

/** The message nodemailer composes from toMailOptions: what the transport sent before. */
async function viaNodemailer(message: OutgoingMessage) {
  const info = await nodemailerTransport.sendMail(toMailOptions(message));
  return {
    raw: (info.message as Buffer).toString('utf8'),
    envelope: info.envelope as { from: string; to: string[] },
  };
}

const COMPARED_HEADERS = [
  'list-unsubscribe',
  'list-unsubscribe-post',
  'list-id',
  'precedence',
  'feedback-id',
  'x-bulletin-campaign',
  'mime-version',
];

/** What a reader (and a filter) sees of a message. */
function view(email: Email) {
  const header = (key: string) =>
    email.headers
      .filter((h) => h.key === key)
      .map((h) => h.value.replace(/\s+/g, ' ').trim())
      .join('\n');
  return {
    from: email.from,
    to: email.to,
    replyTo: email.replyTo,
    subject: email.subject,
    messageId: email.messageId,
    html: email.html,
    text: email.text,
    headers: Object.fromEntries(COMPARED_HEADERS.map((key) => [key, header(key)])),
    contentType: header('content-type').split(';')[0]!.trim(),
    bcc: email.bcc,
  };
}

/** Lines of at most 998 octets, CRLF only, ending in CRLF. */
function expectWireSafe(raw: Buffer) {
  const text = raw.toString('latin1');
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of text.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
}

async function corpus(): Promise<[string, OutgoingMessage][]> {
  const rendered = await newsletterHtml();
  return [
    ['a plain message', base()],
    [
      'non-ASCII names with quotes and commas',
      base({
        from: { name: 'Secrétariat "du" bulletin, Genève', address: 'news@bulletin.example.org' },
        to: { name: 'Zoë O’Brien', address: 'zoe@example.org' },
      }),
    ],
    [
      'ASCII names with specials',
      base({
        from: { name: 'Doe, Jane "JD" \\ co.', address: 'news@bulletin.example.org' },
        to: { name: "O'Brien (home); <x>", address: 'o.brien@example.org' },
      }),
    ],
    [
      'a name that looks like an encoded word',
      base({ to: { name: '=?utf-8?q?Bcc=3A_x?=', address: 'ada@example.org' } }),
    ],
    ['an upper-case domain', base({ to: { name: '', address: 'Ada@Example.ORG' } })],
    ['a subject with emoji', base({ subject: 'Quarterly newsletter 🎉 — été 2024 ✨' })],
    [
      'a subject with an encoded word in it',
      base({ subject: 'Re: =?utf-8?q?Bcc=3A_x@evil.test?= hi' }),
    ],
    ['a subject with quotes', base({ subject: 'The "quarterly" newsletter' })],
    ['a very long ASCII subject', base({ subject: 'Quarterly newsletter '.repeat(20).trim() })],
    [
      'a very long non-ASCII subject',
      base({ subject: 'Lettre trimestrielle — été '.repeat(15).trim() }),
    ],
    ['a very long word as subject', base({ subject: `S${'x'.repeat(1200)}` })],
    [
      'reply-to and a mailto unsubscribe',
      base({
        replyTo: 'contact@bulletin.example.org',
        listUnsubscribe: {
          url: 'https://bulletin.example.org/unsubscribe/tok.sig',
          mailto: 'unsubscribe@bulletin.example.org',
        },
      }),
    ],
    ['no List-Id', base({ listId: undefined })],
    [
      'a non-ASCII List-Id',
      base({ listId: '"Lettre trimestrielle été" <list-3.bulletin.example.org>' }),
    ],
    [
      'test and confirmation mail',
      base({ oneClick: false, bulk: false, feedbackId: undefined, campaignUuid: undefined }),
    ],
    ['no List-Unsubscribe at all', base({ listUnsubscribe: undefined })],
    ['a VERP return path', base({ returnPath: 'bounce+tok.sig@bounces.example.org' })],
    ['a Feedback-ID with a quote', base({ feedbackId: '12:"4":bulletin' })],
    [
      'awkward bodies',
      base({
        text:
          '.leading dot\nFrom the editor\ntrailing  \r\n\ttab\t\n=?x?= = 100%\n' + 'y'.repeat(300),
        html: `<p>${'z'.repeat(500)}</p>\n.\n<p>Zoë — 日本語 🎉</p>`,
      }),
    ],
    ['an HTML-only message', base({ text: '' })],
    ['a text-only message', base({ html: '' })],
    ['an empty message', base({ html: '', text: '' })],
    [
      'the quarterly newsletter',
      base({
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        to: { name: 'Zoë O’Brien', address: 'zoe@example.org' },
        replyTo: 'contact@bulletin.example.org',
        listUnsubscribe: {
          url: 'https://bulletin.example.org/unsubscribe/tok.sig',
          mailto: 'unsubscribe@bulletin.example.org',
        },
        returnPath: 'bounce+tok.sig@bounces.example.org',
      }),
    ],
  ];
}

describe('composeMessage', () => {
  it('reads exactly like what nodemailer composes from toMailOptions', async () => {
    for (const [name, message] of await corpus()) {
      const theirs = await viaNodemailer(message);
      const ours = composeMessage(message);
      expectWireSafe(ours.raw);
      const [a, b] = await Promise.all([
        PostalMime.parse(theirs.raw),
        PostalMime.parse(ours.raw.toString('utf8')),
      ]);
      expect(view(b), name).toEqual(view(a));
      // the envelope too, once nodemailer has normalised it (domains to lower case, IDNA)
      const sent = await nodemailerTransport.sendMail({
        raw: ours.raw,
        envelope: ours.envelope,
        messageId: message.messageId,
      });
      expect(sent.envelope, name).toEqual(theirs.envelope);
      // and nodemailer hands the raw message on untouched
      expect((sent.message as Buffer).equals(ours.raw), name).toBe(true);
    }
  });

  it('carries every header of docs/contract.md §6, folded to short lines', () => {
    const message = base({
      from: { name: 'Secrétariat du bulletin', address: 'news@bulletin.example.org' },
      replyTo: 'contact@bulletin.example.org',
      subject:
        'Quarterly newsletter — a subject long enough to need folding somewhere along the way',
      listUnsubscribe: {
        url: 'https://bulletin.example.org/unsubscribe/tok.sig',
        mailto: 'unsubscribe@bulletin.example.org',
      },
      returnPath: 'bounce+tok.sig@bounces.example.org',
    });
    const date = new Date('2024-05-01T10:20:30Z');
    const { raw, envelope } = composeMessage(message, { date, boundary: 'b0undary' });
    const text = raw.toString('utf8');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    for (const line of head.split('\r\n')) {
      if (!line.startsWith('List-Unsubscribe:')) expect(line.length, line).toBeLessThanOrEqual(78);
    }
    const fields = head.replace(/\r\n(?=[ \t])/g, '').split('\r\n');
    expect(fields.map((f) => f.slice(0, f.indexOf(':')))).toEqual([
      'Date',
      'From',
      'To',
      'Reply-To',
      'Subject',
      'Message-ID',
      'MIME-Version',
      'List-Unsubscribe',
      'List-Unsubscribe-Post',
      'List-Id',
      'Precedence',
      'Feedback-ID',
      'X-Bulletin-Campaign',
      'Content-Type',
    ]);
    expect(fields).toContain('Date: Wed, 01 May 2024 10:20:30 +0000');
    expect(fields).toContain(
      'List-Unsubscribe: <https://bulletin.example.org/unsubscribe/tok.sig>, <mailto:unsubscribe@bulletin.example.org?subject=unsubscribe>',
    );
    expect(fields).toContain('Content-Type: multipart/alternative; boundary="b0undary"');
    expect(text).toContain(
      '\r\n\r\n--b0undary\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello Ada\r\n\r\n--b0undary\r\nContent-Type: text/html; charset=utf-8\r\n',
    );
    expect(text.endsWith('\r\n--b0undary--\r\n')).toBe(true);
    expect(envelope).toEqual({
      from: 'bounce+tok.sig@bounces.example.org',
      to: ['ada@example.org'],
    });
  });

  it('uses a new random boundary for every message, one that quoted-printable never produces', () => {
    const boundary = (raw: Buffer) => /boundary="([^"]+)"/.exec(raw.toString())![1]!;
    const a = boundary(composeMessage(base()).raw);
    const b = boundary(composeMessage(base()).raw);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^=_/);
    expect(() => composeMessage(base(), { boundary: 'bad\r\nBcc: x@evil.test' })).toThrow(
      RangeError,
    );
  });

  it('keeps a header line within 998 octets, or refuses the message', () => {
    const long = composeMessage(
      base({ to: { name: 'N'.repeat(2000), address: 'ada@example.org' } }),
    );
    expectWireSafe(long.raw);
    const error = (() => {
      try {
        composeMessage(
          base({ listUnsubscribe: { url: `https://x.example.org/u/${'t'.repeat(1000)}` } }),
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as InvalidMessageError).message).toContain('List-Unsubscribe');
  });

  it('lets no header be injected through names, the subject, List-Id or Feedback-ID', async () => {
    const message = base({
      from: { name: 'News\r\nBcc: a@evil.test', address: 'news@bulletin.example.org' },
      to: { name: 'Zoë\r\nBcc: b@evil.test\r\n', address: 'zoe@example.org' },
      subject: 'Hi\r\nBcc: c@evil.test\r\n\r\n<h1>body</h1>\u2028x',
      listId: '"Q\r\nBcc: d@evil.test" <list-1.bulletin.example.org>',
      feedbackId: 'a\r\nBcc: e@evil.test',
      campaignUuid: 'u\nBcc: f@evil.test',
    });
    const { raw } = composeMessage(message);
    expectWireSafe(raw);
    const text = raw.toString('utf8');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/^bcc:/im);
    const parsed = await PostalMime.parse(text);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.subject).toBe('Hi Bcc: c@evil.test <h1>body</h1> x');
    expect(parsed.to).toEqual([{ name: 'Zoë Bcc: b@evil.test', address: 'zoe@example.org' }]);
    expect(parsed.from).toEqual({
      name: 'News Bcc: a@evil.test',
      address: 'news@bulletin.example.org',
    });
    expect(view(parsed)).toEqual(view(await PostalMime.parse((await viaNodemailer(message)).raw)));
  });

  it.each([
    ['to', { to: { address: 'ada@example.org\r\nBcc: x@evil.test' } }],
    ['to', { to: { address: 'ada@example.org, x@evil.test' } }],
    ['to', { to: { address: '"a@x y"@z.example.org' } }],
    ['from', { from: { address: 'news@bulletin.example.org>\r\nBcc: x@evil.test' } }],
    ['from', { from: { address: '"a@x y"@z.example.org' } }],
    ['replyTo', { replyTo: 'a@b.example.org\nBcc: x@evil.test' }],
    ['returnPath', { returnPath: 'bounce@b.example.org>' }],
    ['messageId', { messageId: '<a@b>\r\nBcc: x@evil.test' }],
    ['listUnsubscribe.url', { listUnsubscribe: { url: 'javascript:alert(1)' } }],
    ['mailto', { listUnsubscribe: { url: 'https://x.example.org/u', mailto: 'a@b\r\nBcc: x' } }],
    ['listId', { listId: '"Q" <not a list id>' }],
  ])('refuses a message whose %s could smuggle a header, as toMailOptions does', (field, over) => {
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const ours = refusal(() => composeMessage(base(over)));
    const theirs = refusal(() => toMailOptions(base(over)));
    expect(ours).toBeInstanceOf(InvalidMessageError);
    expect((ours as InvalidMessageError).code).toBe('EMESSAGE');
    expect((ours as InvalidMessageError).message).toContain(field);
    expect((ours as Error).message).toBe((theirs as Error).message);
  });
});
