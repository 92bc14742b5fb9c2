// The SMTP transport, or the development outbox when SMTP_URL is unset (each message written
// as an .eml file under OUTBOX_DIR). Campaign delivery sends through this; /ready asks it
// whether it can send. `send` rejects with nodemailer's own error (responseCode, response,
// code, command intact) so the pipeline can classify it with domain/smtp-errors.ts. Messages
// are built by mime.ts and handed to nodemailer ready-made (`raw`); nodemailer's own MIME
// composition cost about three times the SMTP send.
import { constants } from 'node:fs';
import { access, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type DKIMOptions, type SendMailOptions } from 'nodemailer';
import type { Config } from '../config.js';
import type { OutgoingMessage } from './message.js';
import { composeMessage, type ComposedMessage } from './mime.js';

export interface MailTransport {
  kind: 'smtp' | 'outbox';
  /** Resolves when the transport can accept mail; rejects with the reason otherwise. */
  verify(): Promise<void>;
  send(message: OutgoingMessage): Promise<{ messageId: string; response?: string }>;
  close(): void;
}

/**
 * Signed header fields. RFC 8058 requires List-Unsubscribe and List-Unsubscribe-Post to be
 * covered for one-click to be honoured; the rest are what a forger would want to change.
 */
export const DKIM_HEADER_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'MIME-Version',
  'Content-Type',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'Feedback-ID',
  'Precedence',
  'X-Bulletin-Campaign',
].join(':');

function dkimOptions(config: Config): DKIMOptions | undefined {
  if (!config.dkim) return undefined;
  return {
    domainName: config.dkim.domain,
    keySelector: config.dkim.selector,
    // Keys given in one environment variable often carry literal "\n".
    privateKey: config.dkim.privateKey.replace(/\\n/g, '\n'),
    headerFieldNames: DKIM_HEADER_FIELDS,
  };
}

/** Never lets nodemailer read a file or fetch a URL named in message data. */
const SAFE = { disableFileAccess: true, disableUrlAccess: true } as const;

/**
 * The message built by composeMessage, handed over as it is: nodemailer only adds the DKIM
 * signature (its `dkim` option signs raw messages too) and takes the envelope as given.
 */
function rawMail(message: OutgoingMessage): { mail: SendMailOptions } & ComposedMessage {
  const composed = composeMessage(message);
  return {
    ...composed,
    mail: { envelope: composed.envelope, raw: composed.raw, messageId: message.messageId },
  };
}

export function createMailTransport(config: Config): MailTransport {
  const dkim = dkimOptions(config);
  if (!config.smtpUrl) return createOutbox(config, dkim);
  const transporter = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: config.smtpPoolSize,
    // nodemailer re-sends a message on its own when a pooled connection closes mid-send. That
    // hidden retry can duplicate a message the server accepted just before the connection
    // dropped; the delivery ledger decides about retries instead.
    maxRequeues: 0,
    // A server that stops answering must not hold a window (and its rows `sending`) for long:
    // the attempt fails as transient and the ledger schedules the retry.
    connectionTimeout: Math.min(10_000, config.smtpTimeoutMs),
    greetingTimeout: Math.min(10_000, config.smtpTimeoutMs),
    socketTimeout: config.smtpTimeoutMs,
    ...SAFE,
    ...(dkim ? { dkim } : {}),
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async verify() {
      await transporter.verify();
    },
    async send(message) {
      const { mail } = rawMail(message);
      const info = (await transporter.sendMail(mail)) as { response?: string };
      return { messageId: message.messageId, response: info.response };
    },
    close() {
      transporter.close();
    },
  };
}

/** `<a.b@c>` → `a.b_c`: the Message-ID, safe as part of a file name. */
export function outboxFileName(messageId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const id = messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 120);
  return `${stamp}-${id}.eml`;
}

function createOutbox(config: Config, dkim: DKIMOptions | undefined): MailTransport {
  const transporter = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
    ...SAFE,
    ...(dkim ? { dkim } : {}),
  });
  return {
    kind: 'outbox',
    async verify() {
      await mkdir(config.outboxDir, { recursive: true });
      await access(config.outboxDir, constants.W_OK);
    },
    async send(message) {
      const { mail, envelope } = rawMail(message);
      const info = await transporter.sendMail(mail);
      const envelopeFrom = envelope.from;
      await mkdir(config.outboxDir, { recursive: true });
      const file = path.join(config.outboxDir, outboxFileName(message.messageId));
      // A receiving server records the envelope sender as Return-Path; the outbox does the same
      // so the VERP address can be seen.
      const eml = Buffer.concat([
        Buffer.from(`Return-Path: <${envelopeFrom}>\r\n`),
        info.message as Buffer,
      ]);
      await writeFile(file, eml, { flag: 'wx' });
      return { messageId: message.messageId, response: `250 written to ${path.basename(file)}` };
    },
    close() {
      transporter.close();
    },
  };
}

export interface OutboxEntry {
  file: string;
  size: number;
  modifiedAt: Date;
}

/** The newest .eml files of the outbox, newest first (empty when there is no outbox yet). */
export async function listOutbox(config: Config, limit = 200): Promise<OutboxEntry[]> {
  let names: string[];
  try {
    names = await readdir(config.outboxDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files = names
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .reverse()
    .slice(0, limit);
  const entries = await Promise.all(
    files.map(async (file) => {
      const info = await stat(path.join(config.outboxDir, file)).catch(() => undefined);
      return info ? { file, size: info.size, modifiedAt: info.mtime } : undefined;
    }),
  );
  return entries.filter((entry): entry is OutboxEntry => entry !== undefined);
}
