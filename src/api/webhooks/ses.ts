// POST /webhooks/ses: Amazon SES notifications delivered by Amazon SNS. Order matters: the
// topic and the certificate URL are checked before anything is fetched, so a forged message
// can never make this server request a URL of the forger's choosing.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { AppError } from '../../domain/errors.js';
import { parseJson } from '../../domain/webhook-events.js';
import {
  isSnsUrl,
  normaliseSes,
  readSnsMessage,
  snsSignatureAlgorithm,
  snsStringToSign,
  snsTimestampFresh,
  type SnsMessage,
} from '../../domain/webhook-ses.js';
import type { Logger } from '../../lib/logger.js';
import * as verify from './verify.js';

/**
 * Fetches an SNS URL (signing certificate, SubscribeURL) and returns the response body. Only
 * ever called with URLs that passed isSnsUrl. Injectable so tests need no network.
 */
export type SnsFetcher = (url: URL) => Promise<string>;

const FETCH_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
const MAX_CACHED_CERTIFICATES = 50;

/** The production fetcher: HTTPS with certificate validation, no redirects, bounded. */
export const httpsFetcher: SnsFetcher = async (url) => {
  const response = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`${url.host} answered ${response.status}`);
  const text = await response.text();
  if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) throw new Error(`${url.host} sent too much`);
  return text;
};

export class SnsVerifier {
  /** Signing certificates by URL. AWS rotates them under new URLs, so entries never go stale. */
  private readonly certificates = new Map<string, Promise<KeyObject>>();

  constructor(
    private readonly fetcher: SnsFetcher = httpsFetcher,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Verifies a parsed SNS message; throws 403 for other topics, 401 for anything forged. */
  async verify(message: SnsMessage, allowedTopics: readonly string[]): Promise<void> {
    if (!allowedTopics.includes(message.TopicArn)) {
      throw new AppError('forbidden', 'This topic is not one of SES_TOPIC_ARNS');
    }
    if (!isSnsUrl(message.SigningCertURL, 'certificate')) {
      throw verify.unauthorized('SigningCertURL is not an https URL on sns.<region>.amazonaws.com');
    }
    if (!snsTimestampFresh(message.Timestamp, this.now())) {
      throw verify.unauthorized(
        'The message Timestamp is older than SNS could still be delivering',
      );
    }
    const key = await this.certificate(message.SigningCertURL);
    const valid = verify.signatureValid(
      snsSignatureAlgorithm(message.SignatureVersion),
      Buffer.from(snsStringToSign(message), 'utf8'),
      key,
      Buffer.from(message.Signature, 'base64'),
    );
    if (!valid) throw verify.unauthorized('The SNS signature does not match');
  }

  /** Visits a verified SubscriptionConfirmation's SubscribeURL, which confirms it. */
  async confirm(message: SnsMessage): Promise<void> {
    const url = message.SubscribeURL ?? '';
    if (!isSnsUrl(url, 'subscribe')) {
      throw verify.unauthorized('SubscribeURL is not an https URL on sns.<region>.amazonaws.com');
    }
    try {
      await this.fetcher(new URL(url));
    } catch (error) {
      throw new AppError(
        'unavailable',
        `Could not confirm the subscription: ${(error as Error).message}`,
      );
    }
  }

  private certificate(url: string): Promise<KeyObject> {
    let cached = this.certificates.get(url);
    if (!cached) {
      if (this.certificates.size >= MAX_CACHED_CERTIFICATES) {
        const oldest = this.certificates.keys().next().value;
        if (oldest !== undefined) this.certificates.delete(oldest);
      }
      cached = this.load(url);
      this.certificates.set(url, cached);
      // A failed download is not remembered: the next message tries again.
      cached.catch(() => this.certificates.delete(url));
    }
    return cached;
  }

  private async load(url: string): Promise<KeyObject> {
    let pem: string;
    try {
      pem = await this.fetcher(new URL(url));
    } catch (error) {
      // SNS retries on 5xx: a passing network problem must not lose the notification.
      throw new AppError(
        'unavailable',
        `Could not fetch the SNS signing certificate: ${(error as Error).message}`,
      );
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw verify.unauthorized('SigningCertURL did not serve a certificate');
    }
    const now = this.now();
    if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) < now) {
      throw verify.unauthorized('The SNS signing certificate is not valid now');
    }
    if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
      throw verify.unauthorized('The SNS signing certificate does not hold an RSA key');
    }
    return certificate.publicKey;
  }
}

export function sesWebhook(
  topics: readonly string[],
  verifier: SnsVerifier,
  log: Logger,
): verify.WebhookHandler {
  return async (req) => {
    const message = readSnsMessage(parseJson(verify.rawBody(req).toString('utf8')));
    await verifier.verify(message, topics);
    switch (message.Type) {
      case 'SubscriptionConfirmation':
        await verifier.confirm(message);
        log.info(
          { event: 'sns_subscription_confirmed', topicArn: message.TopicArn },
          'SNS subscription confirmed',
        );
        return { normalised: { events: [], ignored: 0 }, reply: { confirmed: true } };
      case 'UnsubscribeConfirmation':
        log.warn(
          { event: 'sns_unsubscribed', topicArn: message.TopicArn },
          'SNS says this endpoint was unsubscribed from the topic',
        );
        return { normalised: { events: [], ignored: 1 } };
      case 'Notification':
        return { normalised: normaliseSes(message) };
    }
  };
}
