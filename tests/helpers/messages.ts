// The list and campaign fields of an outgoing campaign message, as the delivery builds them,
// for tests of the transports that take such a message.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatListId, newMessageId, type OutgoingMessage } from '../../src/mail/message.js';
import { compileMessage, Personalizer } from '../../src/mail/render.js';

const root = path.resolve(import.meta.dirname, '../..');

export function campaignFields(): Omit<
  OutgoingMessage,
  'from' | 'to' | 'subject' | 'html' | 'text'
> {
  return {
    messageId: newMessageId('bulletin.example.org'),
    listUnsubscribe: {
      url: 'https://bulletin.example.org/unsubscribe/tok.sig',
      mailto: 'unsubscribe@bulletin.example.org',
    },
    oneClick: true,
    listId: formatListId('Quarterly readers', 4, 'bulletin.example.org'),
    bulk: true,
    feedbackId: '12:4:bulletin',
    campaignUuid: '0b7d8f38-6f1e-4f5e-9a53-9d1d2f0c7e11',
    returnPath: 'bounce+tok.sig@bounces.example.org',
  };
}

/** The quarterly newsletter template and sample content, rendered for one reader. */
export const newsletterHtml = async () => {
  const compiled = await compileMessage({
    mjml: readFileSync(path.join(root, 'templates/newsletter.mjml'), 'utf8'),
    content: readFileSync(path.join(root, 'templates/samples/quarterly-content.md'), 'utf8'),
    subject: 'Quarterly newsletter — {{ campaign.data.period }}',
  });
  return new Personalizer(compiled).render({
    subscriber: {
      email: 'zoe@example.org',
      name: 'Zoë O’Brien',
      uuid: '11111111-1111-4111-8111-111111111111',
      attributes: {},
    },
    campaign: {
      name: 'Q2',
      subject: 'Quarterly newsletter',
      uuid: '22222222-2222-4222-8222-222222222222',
      data: { period: '2017 — 2nd quarter' },
    },
    list: { name: 'Quarterly readers' },
    unsubscribe_url: 'https://bulletin.example.org/unsubscribe/tok.sig?x=1&y=2',
    preferences_url: 'https://bulletin.example.org/preferences/tok.sig',
  });
};
