// The list and campaign fields of an outgoing campaign message, as the delivery builds them,
// for tests of the transports that take such a message.
import { formatListId, newMessageId, type OutgoingMessage } from '../../src/mail/message.js';

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
