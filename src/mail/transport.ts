// The SMTP transport, or the development outbox when SMTP_URL is unset. Campaign delivery
// (a later issue) sends through this; /ready asks it whether it can send.
import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface MailTransport {
  kind: 'smtp' | 'outbox';
  /** Resolves when the transport can accept mail; rejects with the reason otherwise. */
  verify(): Promise<void>;
  close(): void;
}

export function createMailTransport(config: Config): MailTransport {
  if (!config.smtpUrl) {
    return {
      kind: 'outbox',
      async verify() {
        await mkdir(config.outboxDir, { recursive: true });
        await access(config.outboxDir, constants.W_OK);
      },
      close() {},
    };
  }
  const transporter = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: config.smtpPoolSize,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async verify() {
      await transporter.verify();
    },
    close() {
      transporter.close();
    },
  };
}
