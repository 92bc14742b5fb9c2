// The built-in receiver of bounce and complaint reports (BOUNCE_SMTP_PORT), when BOUNCE_DOMAIN
// and BOUNCE_SMTP_PORT are set; undefined otherwise.
import type { Container } from '../src/container.js';
import { startBounceReceiver, type BounceReceiver } from '../src/mail/inbound/bounce-receiver.js';

export function startConfiguredBounceReceiver(container: Container): BounceReceiver | undefined {
  const { bounceDomain, bounceSmtpPort, host } = container.config;
  if (!bounceDomain || !bounceSmtpPort) return undefined;
  return startBounceReceiver({
    domain: bounceDomain,
    port: bounceSmtpPort,
    host,
    keys: () => container.signingKeys,
    pool: container.pool,
    feedback: container.services.feedback,
    log: container.log,
  });
}
