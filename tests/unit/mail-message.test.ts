import { describe, expect, it } from 'vitest';
import {
  formatListId,
  InvalidMessageError,
  listIdHeader,
  newMessageId,
  toMailOptions,
  type OutgoingMessage,
} from '../../src/mail/message.js';

const base = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: { name: 'Newsletter', address: 'news@bulletin.example.org' },
  to: { name: 'Ada', address: 'ada@example.org' },
  subject: 'Quarterly newsletter',
  html: '<p>Hi</p>',
  text: 'Hi',
  messageId: newMessageId('bulletin.example.org'),
  oneClick: true,
  bulk: true,
  ...over,
});

type Headers = Record<string, string | { prepared: boolean; value: string }>;
const headerValue = (headers: unknown, name: string) => {
  const value = (headers as Headers)[name];
  return typeof value === 'object' ? value.value : value;
};

describe('newMessageId', () => {
  it('makes a unique <uuid@domain> every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newMessageId('bulletin.example.org')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^<[0-9a-f-]{36}@bulletin\.example\.org>$/);
  });

  it('falls back to localhost rather than put a strange domain in a header', () => {
    expect(newMessageId('evil>\r\nBcc: x')).toMatch(/@localhost>$/);
  });
});

describe('toMailOptions', () => {
  it('builds the campaign headers of docs/contract.md §6', () => {
    const options = toMailOptions(
      base({
        listUnsubscribe: {
          url: 'https://bulletin.example.org/unsubscribe/abc.def',
          mailto: 'unsubscribe@bulletin.example.org',
        },
        listId: formatListId('Quarterly', 7, 'bulletin.example.org'),
        feedbackId: '12:7:bulletin',
        campaignUuid: '3f1c2d4e-0000-4000-8000-000000000000',
        returnPath: 'bounce+tok.sig@bounces.example.org',
      }),
    );
    expect(headerValue(options.headers, 'List-Unsubscribe')).toBe(
      '<https://bulletin.example.org/unsubscribe/abc.def>, <mailto:unsubscribe@bulletin.example.org?subject=unsubscribe>',
    );
    expect(headerValue(options.headers, 'List-Unsubscribe-Post')).toBe(
      'List-Unsubscribe=One-Click',
    );
    expect(headerValue(options.headers, 'List-Id')).toBe(
      '"Quarterly" <list-7.bulletin.example.org>',
    );
    expect(headerValue(options.headers, 'Precedence')).toBe('bulk');
    expect(headerValue(options.headers, 'Feedback-ID')).toBe('12:7:bulletin');
    expect(headerValue(options.headers, 'X-Bulletin-Campaign')).toBe(
      '3f1c2d4e-0000-4000-8000-000000000000',
    );
    expect(options.envelope).toEqual({
      from: 'bounce+tok.sig@bounces.example.org',
      to: ['ada@example.org'],
    });
  });

  it('leaves out List-Unsubscribe-Post and Precedence for test and confirmation mail', () => {
    const options = toMailOptions(
      base({ oneClick: false, bulk: false, listUnsubscribe: { url: 'https://x.example.org/u/1' } }),
    );
    expect(headerValue(options.headers, 'List-Unsubscribe')).toBe('<https://x.example.org/u/1>');
    expect(options.headers).not.toHaveProperty('List-Unsubscribe-Post');
    expect(options.headers).not.toHaveProperty('Precedence');
    expect(options.envelope).toEqual({
      from: 'news@bulletin.example.org',
      to: ['ada@example.org'],
    });
  });

  it('turns line breaks in names, subject and header values into spaces', () => {
    const options = toMailOptions(
      base({
        from: { name: 'News\r\nBcc: a@evil.test', address: 'news@bulletin.example.org' },
        to: { name: 'Ada\nBcc: b@evil.test', address: 'ada@example.org' },
        subject: 'Hello\r\nBcc: c@evil.test\u2028x',
        listId: '"Q\r\nBcc: d@evil.test" <list-1.bulletin.example.org>',
        feedbackId: 'a\r\nBcc: e@evil.test',
      }),
    );
    const all = JSON.stringify(options);
    expect(all).not.toMatch(/\\r|\\n|\\u2028/);
    expect(options.subject).toBe('Hello Bcc: c@evil.test x');
    expect(options.from).toEqual({
      name: 'News Bcc: a@evil.test',
      address: 'news@bulletin.example.org',
    });
    expect(options.to).toEqual({ name: 'Ada Bcc: b@evil.test', address: 'ada@example.org' });
  });

  it.each([
    ['to', { to: { address: 'ada@example.org\r\nBcc: x@evil.test' } }],
    ['to', { to: { address: 'ada@example.org, x@evil.test' } }],
    ['to', { to: { address: '"x"@example.org' } }],
    ['from', { from: { address: 'news@bulletin.example.org>\r\nBcc: x@evil.test' } }],
    ['replyTo', { replyTo: 'a@b.example.org\nBcc: x@evil.test' }],
    ['returnPath', { returnPath: 'bounce@b.example.org>' }],
    ['messageId', { messageId: '<a@b>\r\nBcc: x@evil.test' }],
    ['listUnsubscribe.url', { listUnsubscribe: { url: 'javascript:alert(1)' } }],
    ['listId', { listId: '"Q" <not a list id>' }],
  ])('refuses a message whose %s could smuggle a header or recipient', (field, over) => {
    let error: unknown;
    try {
      toMailOptions(base(over));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as InvalidMessageError).code).toBe('EMESSAGE');
    expect((error as InvalidMessageError).message).toContain(field);
  });

  it('percent-encodes what would end or split the List-Unsubscribe list', () => {
    const options = toMailOptions(
      base({ listUnsubscribe: { url: 'https://x.example.org/u/a>b,c d"e' } }),
    );
    expect(headerValue(options.headers, 'List-Unsubscribe')).toBe(
      '<https://x.example.org/u/a%3Eb%2Cc%20d%22e>',
    );
  });
});

describe('listIdHeader', () => {
  it('encodes only the phrase, so the id stays readable to filters', () => {
    expect(listIdHeader('"Lettre trimestrielle été" <list-3.bulletin.example.org>')).toMatch(
      /^=\?UTF-8\?Q\?.+\?= <list-3\.bulletin\.example\.org>$/,
    );
    expect(listIdHeader('<list-3.bulletin.example.org>')).toBe('<list-3.bulletin.example.org>');
    expect(listIdHeader('Plain "quoted" name <l.example.org>')).toBe(
      '"Plain \\"quoted\\" name" <l.example.org>',
    );
  });
});
