// Times every SMTP transaction of the process (campaign messages, test sends, confirmation
// mails) in bulletin_smtp_send_seconds, by wrapping the transport the container hands out.
import { InvalidMessageError } from '../mail/message.js';
import type { MailTransport } from '../mail/transport.js';
import type { Metrics } from './metrics.js';

export function instrumentTransport(transport: MailTransport, metrics: Metrics): MailTransport {
  return {
    kind: transport.kind,
    verify: () => transport.verify(),
    async send(message) {
      const end = metrics.smtpSendSeconds.startTimer();
      try {
        const result = await transport.send(message);
        end({ outcome: 'ok' });
        return result;
      } catch (error) {
        // Refused before any SMTP exchange (unsafe header data): not a transaction.
        if (!(error instanceof InvalidMessageError)) end({ outcome: 'error' });
        throw error;
      }
    },
    close: () => transport.close(),
  };
}
