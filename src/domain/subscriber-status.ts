export const SUBSCRIBER_STATUSES = ['active', 'bounced', 'complained', 'blocklisted'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];
