// Outgoing mail end to end below the pipeline: the outbox writes a real RFC 5322 message, the
// SMTP transport delivers one to a real in-process SMTP server, DKIM signs what RFC 8058 needs.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { newMessageId, type OutgoingMessage } from '../../src/mail/message.js';
import { createMailTransport, listOutbox, type MailTransport } from '../../src/mail/transport.js';
import { dkimSettings, expectCampaignSignature } from '../helpers/dkim.js';
import { campaignFields } from '../helpers/messages.js';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

const campaignMessage = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: { name: 'Secrétariat du bulletin', address: 'news@bulletin.example.org' },
  to: { name: 'Zoë O’Brien', address: 'zoe@example.org' },
  replyTo: 'contact@bulletin.example.org',
  subject: 'Quarterly newsletter — 2nd quarter',
  html: '<p>Hello Zoë, <a href="https://bulletin.example.org/unsubscribe/tok">unsubscribe</a></p>',
  text: 'Hello Zoë\n\nUnsubscribe: https://bulletin.example.org/unsubscribe/tok\n',
  ...campaignFields(),
  ...over,
});

const config = (env: Record<string, string>) =>
  loadConfig({
    env: {
      NODE_ENV: 'test',
      OUTBOX_DIR: mkdtempSync(path.join(tmpdir(), 'bulletin-mail-')),
      ...env,
    },
  });

/** The raw header block of a message, unfolded, as [lower-case name, value]. */
function rawHeaders(raw: string): [string, string][] {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  return head
    .replace(/\r\n(?=[ \t])/g, '')
    .split('\r\n')
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
}

/** Every header a campaign message must carry (docs/contract.md §6), checked on a parsed message. */
async function expectCampaignMessage(raw: string, message: OutgoingMessage) {
  const headers = rawHeaders(raw);
  const one = (name: string) => {
    const found = headers.filter(([key]) => key === name);
    expect(found, name).toHaveLength(1);
    return found[0]![1];
  };
  expect(one('content-type')).toMatch(/^multipart\/alternative;/);
  expect(one('message-id')).toBe(message.messageId);
  expect(one('list-unsubscribe')).toBe(
    '<https://bulletin.example.org/unsubscribe/tok.sig>, <mailto:unsubscribe@bulletin.example.org?subject=unsubscribe>',
  );
  expect(one('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
  expect(one('list-id')).toBe('"Quarterly readers" <list-4.bulletin.example.org>');
  expect(one('precedence')).toBe('bulk');
  expect(one('feedback-id')).toBe('12:4:bulletin');
  expect(one('x-bulletin-campaign')).toBe(message.campaignUuid);
  expect(one('date')).toBeTruthy();
  expect(headers.some(([key]) => key === 'bcc')).toBe(false);

  const parsed = await PostalMime.parse(raw);
  expect(parsed.from).toEqual({
    name: 'Secrétariat du bulletin',
    address: 'news@bulletin.example.org',
  });
  expect(parsed.to).toEqual([{ name: 'Zoë O’Brien', address: 'zoe@example.org' }]);
  expect(parsed.replyTo).toEqual([{ name: '', address: 'contact@bulletin.example.org' }]);
  expect(parsed.subject).toBe(message.subject);
  expect(parsed.messageId).toBe(message.messageId);
  expect(parsed.html).toContain('Hello Zoë');
  expect(parsed.text).toContain('Unsubscribe: https://bulletin.example.org/unsubscribe/tok');
}

describe('the outbox (no SMTP_URL)', () => {
  it('writes the full message as a parseable .eml with every campaign header', async () => {
    const cfg = config({});
    const transport = createMailTransport(cfg);
    expect(transport.kind).toBe('outbox');
    await transport.verify();
    const message = campaignMessage();
    const result = await transport.send(message);
    expect(result.messageId).toBe(message.messageId);

    const [entry, ...rest] = await listOutbox(cfg);
    expect(rest).toEqual([]);
    expect(entry!.file).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-[A-Za-z0-9._-]+\.eml$/);
    const raw = readFileSync(path.join(cfg.outboxDir, entry!.file), 'utf8');
    expect(raw.startsWith('Return-Path: <bounce+tok.sig@bounces.example.org>\r\n')).toBe(true);
    await expectCampaignMessage(raw, message);
    transport.close();
  });

  it('lists the newest message first', async () => {
    const cfg = config({});
    const transport = createMailTransport(cfg);
    const first = campaignMessage();
    await transport.send(first);
    await new Promise((r) => setTimeout(r, 5));
    const second = campaignMessage({ messageId: newMessageId('bulletin.example.org') });
    await transport.send(second);
    const entries = await listOutbox(cfg);
    expect(entries).toHaveLength(2);
    expect(entries[0]!.file).toContain(second.messageId.slice(1, 37));
    expect(entries[1]!.file).toContain(first.messageId.slice(1, 37));
    transport.close();
  });

  it('sends test and confirmation mail without one-click or bulk headers', async () => {
    const cfg = config({});
    const transport = createMailTransport(cfg);
    await transport.send(
      campaignMessage({ oneClick: false, bulk: false, listId: undefined, returnPath: undefined }),
    );
    const [entry] = await listOutbox(cfg);
    const headers = rawHeaders(readFileSync(path.join(cfg.outboxDir, entry!.file), 'utf8'));
    const names = headers.map(([key]) => key);
    expect(names).toContain('list-unsubscribe');
    expect(names).not.toContain('list-unsubscribe-post');
    expect(names).not.toContain('precedence');
    expect(headers[0]).toEqual(['return-path', '<news@bulletin.example.org>']);
    transport.close();
  });

  it('lets no header be injected through names or the subject', async () => {
    const cfg = config({});
    const transport = createMailTransport(cfg);
    await transport.send(
      campaignMessage({
        from: { name: 'News\r\nBcc: a@evil.test', address: 'news@bulletin.example.org' },
        to: { name: 'Zoë\r\nBcc: b@evil.test\r\n', address: 'zoe@example.org' },
        subject: 'Hi\r\nBcc: c@evil.test\r\n\r\n<h1>body</h1>',
      }),
    );
    const [entry] = await listOutbox(cfg);
    const raw = readFileSync(path.join(cfg.outboxDir, entry!.file), 'utf8');
    const headers = rawHeaders(raw);
    expect(headers.filter(([key]) => key === 'bcc')).toEqual([]);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.subject).toBe('Hi Bcc: c@evil.test <h1>body</h1>');
    expect(parsed.to).toEqual([{ name: 'Zoë Bcc: b@evil.test', address: 'zoe@example.org' }]);
    expect(parsed.bcc).toBeUndefined();
    transport.close();
  });
});

describe('the SMTP transport', () => {
  let server: SMTPServer;
  let port: number;
  const received: Received[] = [];

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('nobody@')) {
          return callback(
            Object.assign(new Error('5.1.1 <nobody@example.org>: mailbox unavailable'), {
              responseCode: 550,
            }),
          );
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  // Pooled connections stay open until the transport closes: close each one, or the server
  // waits for them when it shuts down.
  const transports: MailTransport[] = [];
  const smtp = (env: Record<string, string> = {}) => {
    const transport = createMailTransport(config({ SMTP_URL: `smtp://127.0.0.1:${port}`, ...env }));
    transports.push(transport);
    return transport;
  };
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
  });

  it('delivers a message with every header, the VERP envelope sender and one recipient', async () => {
    received.length = 0;
    const transport = smtp();
    expect(transport.kind).toBe('smtp');
    await transport.verify();
    const message = campaignMessage();
    const result = await transport.send(message);
    expect(result).toMatchObject({ messageId: message.messageId });
    expect(result.response).toMatch(/^250/);
    expect(received).toHaveLength(1);
    expect(received[0]!.from).toBe('bounce+tok.sig@bounces.example.org');
    expect(received[0]!.to).toEqual(['zoe@example.org']);
    await expectCampaignMessage(received[0]!.raw, message);
  });

  it('lets no recipient or header be smuggled in through a name or the subject', async () => {
    received.length = 0;
    const transport = smtp();
    await transport.send(
      campaignMessage({
        to: { name: 'Zoë\r\nBcc: x@evil.test', address: 'zoe@example.org' },
        subject: 'Hi\r\nBcc: y@evil.test',
      }),
    );
    expect(received).toHaveLength(1);
    expect(received[0]!.to).toEqual(['zoe@example.org']);
    expect(rawHeaders(received[0]!.raw).filter(([key]) => key === 'bcc')).toEqual([]);
    const parsed = await PostalMime.parse(received[0]!.raw);
    expect(parsed.to).toEqual([{ name: 'Zoë Bcc: x@evil.test', address: 'zoe@example.org' }]);
    expect(parsed.subject).toBe('Hi Bcc: y@evil.test');
  });

  it('rejects with nodemailer’s error, SMTP reply intact, for the pipeline to classify', async () => {
    const transport = smtp();
    const error = (await transport
      .send(campaignMessage({ to: { address: 'nobody@example.org' } }))
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { responseCode?: number; response?: string; code?: string; command?: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.responseCode).toBe(550);
    expect(error.response).toContain('5.1.1');
    expect(error.code).toBe('EENVELOPE');
    expect(error.command).toBe('RCPT TO');
  });

  it('signs with DKIM, covering List-Unsubscribe and List-Unsubscribe-Post', async () => {
    received.length = 0;
    const { env, publicPem } = dkimSettings();
    const transport = smtp(env);
    const message = campaignMessage();
    await transport.send(message);
    expect(received).toHaveLength(1);
    const raw = received[0]!.raw;
    await expectCampaignMessage(raw, message);
    expectCampaignSignature(raw, publicPem);
  });
});

describe('outbox files', () => {
  it('are named from the Message-ID without anything that could leave the folder', async () => {
    const cfg = config({});
    const transport = createMailTransport(cfg);
    await transport.send(campaignMessage({ messageId: '<../../etc/passwd@bulletin.example.org>' }));
    const files = readdirSync(cfg.outboxDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/-\.\._\.\._etc_passwd_bulletin\.example\.org\.eml$/);
    transport.close();
  });
});
