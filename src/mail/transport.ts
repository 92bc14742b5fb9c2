// The SMTP transport, or the development outbox when SMTP_URL is unset (each message written
// as an .eml file under OUTBOX_DIR). Campaign delivery sends through this; /ready asks it
// whether it can send. `send` rejects with nodemailer's own error (responseCode, response,
// code, command intact) so the pipeline can classify it with domain/smtp-errors.ts. Messages
// are built by mime.ts and handed to nodemailer ready-made (`raw`); nodemailer's own MIME
// composition cost about three times the SMTP send.
import { constants } from 'node:fs';
import { access, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { dkimSign, type DkimKey } from './dkim.js';
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

/** Never lets nodemailer read a file or fetch a URL named in message data. */
const SAFE = { disableFileAccess: true, disableUrlAccess: true } as const;

/**
 * The message built by composeMessage, DKIM-signed by us when configured (src/mail/dkim.ts
 * oversigns; nodemailer's signer cannot), and handed to nodemailer as it is, with its envelope.
 */
function rawMail(
  message: OutgoingMessage,
  dkim: DkimKey | undefined,
): { mail: SendMailOptions } & ComposedMessage {
  const composed = composeMessage(message);
  const raw = dkim ? dkimSign(composed.raw, dkim) : composed.raw;
  return {
    ...composed,
    raw,
    mail: { envelope: composed.envelope, raw, messageId: message.messageId },
  };
}

export function createMailTransport(config: Config): MailTransport {
  const dkim = config.dkim;
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
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async verify() {
      await transporter.verify();
    },
    async send(message) {
      const { mail } = rawMail(message, dkim);
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

function createOutbox(config: Config, dkim: DkimKey | undefined): MailTransport {
  const transporter = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
    ...SAFE,
  });
  return {
    kind: 'outbox',
    async verify() {
      await mkdir(config.outboxDir, { recursive: true });
      await access(config.outboxDir, constants.W_OK);
    },
    async send(message) {
      const { mail, envelope } = rawMail(message, dkim);
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
  return (await outboxPage(config, 0, limit)).entries;
}

/** One page of the outbox, newest first, and how many messages it holds in all. */
export async function outboxPage(
  config: Config,
  offset: number,
  limit: number,
): Promise<{ total: number; entries: OutboxEntry[] }> {
  let names: string[];
  try {
    names = await readdir(config.outboxDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { total: 0, entries: [] };
    throw error;
  }
  // File names start with the ISO time of writing: the name order is the time order.
  const all = names
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .reverse();
  const files = all.slice(offset, offset + limit);
  const entries = await Promise.all(
    files.map(async (file) => {
      const info = await stat(path.join(config.outboxDir, file)).catch(() => undefined);
      return info ? { file, size: info.size, modifiedAt: info.mtime } : undefined;
    }),
  );
  return {
    total: all.length,
    entries: entries.filter((entry): entry is OutboxEntry => entry !== undefined),
  };
}
