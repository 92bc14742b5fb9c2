// "Download my data" and "Erase me" from the preference page. The page's link comes in every
// newsletter, so whoever a newsletter was forwarded to holds it: asking for either only mails a
// short-lived link (DATA_LINK_TTL_SECONDS) to the subscriber's own address, and that link does it.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { maskEmail } from '../domain/email.js';
import { escapeHtml } from '../domain/text.js';
import { parseMailbox } from '../domain/sender.js';
import type { Logger } from '../lib/logger.js';
import { newMessageId } from '../mail/message.js';
import type { MailTransport } from '../mail/transport.js';
import { DATA_LINK_TTL_SECONDS, type PublicLinks, type Visitor } from './public-links.service.js';

export type DataAction = 'my-data' | 'erase';

/** One such mail per address and action in this time: the page cannot be used to mail-bomb. */
const MAIL_INTERVAL_MS = 10 * 60_000;

const WORDING: Record<DataAction, { subject: string; what: string; button: string }> = {
  'my-data': {
    subject: 'Your data: the download link you asked for',
    what: 'You asked to download the data we hold about you (your profile, subscriptions, consent records and the messages we sent you).',
    button: 'Download my data',
  },
  erase: {
    subject: 'Confirm the erasure of your data',
    what: 'You asked us to erase you: your profile, your subscriptions and the history of the messages we sent you. The link opens a page where you confirm it; nothing is erased before.',
    button: 'Erase my data',
  },
};

export class DataRequestsService {
  constructor(
    private readonly config: Config,
    private readonly transport: MailTransport,
    private readonly links: PublicLinks,
    private readonly redis: Pick<Redis, 'set' | 'del'>,
    private readonly log: Logger,
  ) {}

  /**
   * Mails the subscriber a link that does `action`, unless one was mailed in the last
   * MAIL_INTERVAL_MS. Sent after the answer: the page looks the same either way.
   */
  async request(visitor: Visitor, action: DataAction): Promise<void> {
    const { subscriber } = visitor;
    const first = await this.redis.set(
      this.throttleKey(action, subscriber.id),
      '1',
      'PX',
      MAIL_INTERVAL_MS,
      'NX',
    );
    if (first !== 'OK') return;
    setImmediate(() => void this.send(visitor, action));
  }

  private throttleKey(action: DataAction, subscriberId: number): string {
    return `${this.config.queuePrefix}:data-request:${action}:${subscriberId}`;
  }

  private async send(visitor: Visitor, action: DataAction): Promise<void> {
    const { subscriber } = visitor;
    const log = this.log.child({ subscriberId: subscriber.id, to: maskEmail(subscriber.email) });
    const url = this.links.url(action, subscriber.uuid);
    const words = WORDING[action];
    const minutes = Math.round(DATA_LINK_TTL_SECONDS / 60);
    const ignore =
      'If you did not ask for this, ignore this message: nothing happens without the link.';
    try {
      const from = parseMailbox(this.config.mailFrom);
      await this.transport.send({
        from: { ...(from.name ? { name: from.name } : {}), address: from.address },
        to: { ...(subscriber.name ? { name: subscriber.name } : {}), address: subscriber.email },
        subject: words.subject,
        html:
          `<!doctype html><html lang="en"><body style="font-family:sans-serif;line-height:1.5">` +
          `<p>${escapeHtml(words.what)}</p>` +
          `<p><a href="${escapeHtml(url)}">${escapeHtml(words.button)}</a></p>` +
          `<p>The link works for ${minutes} minutes.</p><p>${escapeHtml(ignore)}</p></body></html>`,
        text: `${words.what}\n\n${words.button}: ${url}\n\nThe link works for ${minutes} minutes.\n\n${ignore}\n`,
        messageId: newMessageId(from.domain),
        // Not list mail: no List-Unsubscribe(-Post), no Precedence: bulk.
        oneClick: false,
        bulk: false,
      });
      log.info({ event: 'data_request_sent', action }, 'data request link mailed');
    } catch (error) {
      log.error(
        { event: 'data_request_failed', action, err: error },
        'data request link not mailed',
      );
    }
  }
}
