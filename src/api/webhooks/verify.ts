// Shared pieces of webhook verification. Every comparison of a secret or a MAC is constant
// time; every failure is a 401 with nothing stored (docs/contract.md §4.3).
import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError } from '../../domain/errors.js';
import type { Normalised } from '../../domain/webhook-events.js';

/** What a provider handler hands to the router once a request is verified and normalised. */
export interface WebhookOutcome {
  normalised: Normalised;
  /** Undo side effects of verification (a remembered replay token) when storing fails. */
  rollback?: () => Promise<void>;
  /** Extra fields for the 200 answer. */
  reply?: Record<string, unknown>;
}

export type WebhookHandler = (req: Request, res: Response) => Promise<WebhookOutcome>;

export const unauthorized = (detail: string) => new AppError('unauthorized', detail);

/** The body as received: the router mounts express.raw, so it is a Buffer (or absent). */
export function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

export function hmacSha256(key: string, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Compares a MAC with its hex form as sent, in constant time. */
export function macEquals(expected: Buffer, givenHex: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(givenHex) || givenHex.length !== expected.length * 2) return false;
  return timingSafeEqual(expected, Buffer.from(givenHex, 'hex'));
}

/** Whether a signed Unix timestamp (seconds) is at most maxAge old and maxFuture ahead. */
export function timestampFresh(
  seconds: number,
  nowMs: number,
  maxAgeSeconds: number,
  maxFutureSeconds = 300,
): boolean {
  const at = seconds * 1000;
  return (
    Number.isFinite(at) &&
    at >= nowMs - maxAgeSeconds * 1000 &&
    at <= nowMs + maxFutureSeconds * 1000
  );
}

/** A public-key signature check that treats a malformed signature as a wrong one. */
export function signatureValid(
  algorithm: 'sha1' | 'sha256',
  data: Buffer,
  key: KeyObject,
  signature: Buffer,
): boolean {
  try {
    return verify(algorithm, data, key, signature);
  } catch {
    return false;
  }
}
