// What a feedback event does to a subscriber's global status (docs/contract.md §4.3). Statuses only
// ever get stricter through events: nothing here turns a suppressed subscriber active again,
// so events arriving out of order cannot undo a suppression.
import type { SubscriberStatus } from './subscriber-status.js';

export interface FeedbackEvent {
  type: 'bounce' | 'complaint' | 'unsubscribe' | 'delivered' | 'opened' | 'clicked' | 'confirmed';
  bounceType?: 'hard' | 'soft' | null | undefined;
}

const SEVERITY: Record<SubscriberStatus, number> = {
  active: 0,
  bounced: 1,
  complained: 2,
  blocklisted: 3,
};

export function statusAfter(
  current: SubscriberStatus,
  event: FeedbackEvent,
  softBouncesInWindow: number,
  softBounceLimit: number,
): SubscriberStatus {
  let wanted: SubscriberStatus = current;
  if (event.type === 'complaint') wanted = 'complained';
  if (event.type === 'bounce') {
    if (event.bounceType === 'hard' || softBouncesInWindow >= softBounceLimit) wanted = 'bounced';
  }
  return SEVERITY[wanted] > SEVERITY[current] ? wanted : current;
}
