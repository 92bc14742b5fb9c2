// Test sends: the campaign as it would go out now, to at most ten addresses, subject prefixed
// "[Test] ". Not in the ledger, no List-Unsubscribe-Post (nobody should one-click a test).
import type { Config } from '../config.js';
import { normalizeEmail } from '../domain/email.js';
import { AppError, validation } from '../domain/errors.js';
import type { PublicLinks } from './public-links.service.js';
import type { Pool } from '../db/pool.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import { SubscribersRepository } from '../db/repositories/subscribers.repository.js';
import type { Recipient } from '../db/repositories/deliveries.repository.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import { CampaignMessageBuilder } from './campaign-message.builder.js';
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
    links: PublicLinks,
  ) {
    this.messages = new CampaignMessageBuilder(config, links);
  }

  private readonly messages: CampaignMessageBuilder;

  async send(
    campaign: CampaignRow,
    emails: string[],
  ): Promise<{ email: string; messageId: string }[]> {
    const addresses = emails.map((e, i) => {
      const r = normalizeEmail(e);
      if (!r.ok) throw validation([{ path: `emails.${i}`, message: r.reason }]);
      return r.email;
    });
    const snapshot = await this.campaigns.buildSnapshot(campaign, true);
    const personalizer = new Personalizer(snapshot);
    const from = senderOf(campaign, this.config.mailFrom);
    const subscribers = new SubscribersRepository(this.pool);
    const sent: { email: string; messageId: string }[] = [];
    // One test per mailbox: Editor@x and editor@x are the same reader.
    const unique = [...new Map(addresses.map((a) => [a.toLowerCase(), a])).values()];
    const firstList = campaign.list_ids[0];
    const list = firstList ? await new ListsRepository(this.pool).findById(firstList) : undefined;
    const frozen = { ...campaign, snapshot };
    for (const email of unique) {
      // A known address sees its own data and working links; anyone else sees sample values
      // and links that name nobody (they open the "link does not work" page).
      const known = await subscribers.findByEmail(email);
      const recipient: Recipient = {
        delivery_id: 0,
        subscriber_id: known?.id ?? 0,
        uuid: known?.uuid ?? '00000000-0000-4000-8000-000000000000',
        email,
        name: known?.name ?? 'Test Reader',
        attributes: known?.attributes ?? {},
        list_id: list?.id ?? null,
        list_name: list?.name ?? '',
      };
      // The production message, with only the subject prefix and the missing one-click differing.
      const message = this.messages.build(frozen, personalizer, recipient, from);
      const messageId = message.messageId;
      try {
        await this.transport.send({
          ...message,
          subject: `[Test] ${message.subject}`,
          oneClick: false,
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
