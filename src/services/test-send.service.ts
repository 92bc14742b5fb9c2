// Test sends: the campaign as it would go out now, to at most ten addresses, subject prefixed
// "[Test] ". Not in the ledger, no List-Unsubscribe-Post (nobody should one-click a test).
import type { Config } from '../config.js';
import { normalizeEmail } from '../domain/email.js';
import { AppError, validation } from '../domain/errors.js';
import { signLink, type SigningKey } from '../domain/links.js';
import type { Pool } from '../db/pool.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import { SubscribersRepository } from '../db/repositories/subscribers.repository.js';
import { newMessageId } from '../mail/message.js';
import { Personalizer } from '../mail/render.js';
import type { MailTransport } from '../mail/transport.js';
import type { CampaignsService } from './campaigns.service.js';
import { senderOf } from '../domain/sender.js';

export class TestSendService {
  constructor(
    private readonly pool: Pool,
    private readonly config: Config,
    private readonly transport: MailTransport,
    private readonly campaigns: CampaignsService,
    private readonly signingKey: () => SigningKey,
  ) {}

  async send(
    campaign: CampaignRow,
    emails: string[],
  ): Promise<{ email: string; messageId: string }[]> {
    const addresses = emails.map((e, i) => {
      const r = normalizeEmail(e);
      if (!r.ok) throw validation([{ path: `emails.${i}`, message: r.reason }]);
      return r.email;
    });
    const snapshot = await this.campaigns.buildSnapshot(campaign);
    const personalizer = new Personalizer(snapshot);
    const from = senderOf(campaign, this.config.mailFrom);
    const subscribers = new SubscribersRepository(this.pool);
    const sent: { email: string; messageId: string }[] = [];
    // One test per mailbox: Editor@x and editor@x are the same reader.
    const unique = [...new Map(addresses.map((a) => [a.toLowerCase(), a])).values()];
    for (const email of unique) {
      // A known address sees its own data and working links; anyone else sees sample values.
      const known = await subscribers.findByEmail(email);
      const uuid = known?.uuid ?? '00000000-0000-4000-8000-000000000000';
      const link = (purpose: 'unsubscribe' | 'preferences') =>
        known
          ? `${this.config.publicUrl}/${purpose}/${signLink(this.signingKey(), { purpose, subscriberUuid: uuid, campaignUuid: campaign.uuid })}`
          : `${this.config.publicUrl}/${purpose}/test`;
      const rendered = personalizer.render({
        subscriber: {
          email,
          name: known?.name ?? 'Test Reader',
          uuid,
          attributes: known?.attributes ?? {},
        },
        campaign: {
          name: campaign.name,
          subject: snapshot.subject,
          uuid: campaign.uuid,
          data: campaign.data,
        },
        list: { name: 'Test' },
        org: { name: this.config.org.name, address: this.config.org.address ?? '' },
        unsubscribe_url: link('unsubscribe'),
        preferences_url: link('preferences'),
      });
      const messageId = newMessageId(from.domain);
      try {
        await this.transport.send({
          from: { ...(from.name ? { name: from.name } : {}), address: from.address },
          to: { address: email },
          ...(campaign.reply_to ? { replyTo: campaign.reply_to } : {}),
          subject: `[Test] ${rendered.subject}`,
          html: rendered.html,
          text: rendered.text,
          messageId,
          oneClick: false,
          bulk: false,
          campaignUuid: campaign.uuid,
        });
      } catch (error) {
        throw new AppError(
          'unavailable',
          `The test mail to ${email} was not accepted: ${(error as Error).message}`,
        );
      }
      sent.push({ email, messageId });
    }
    return sent;
  }
}
