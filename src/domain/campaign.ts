// Campaign lifecycle rules. Every status change goes through `canTransition`; the repository
// applies it with a conditional UPDATE so two processes can never both make the same move.

export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'running',
  'paused',
  'cancelled',
  'finished',
  'failed',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export type CampaignAction =
  'schedule' | 'unschedule' | 'start' | 'pause' | 'resume' | 'cancel' | 'finish' | 'fail' | 'retry';

/** From which statuses each action may be taken, and the status it leads to. */
const TRANSITIONS: Record<CampaignAction, { from: readonly CampaignStatus[]; to: CampaignStatus }> =
  {
    schedule: { from: ['draft', 'scheduled'], to: 'scheduled' },
    unschedule: { from: ['scheduled'], to: 'draft' },
    start: { from: ['draft', 'scheduled'], to: 'running' },
    pause: { from: ['running'], to: 'paused' },
    resume: { from: ['paused'], to: 'running' },
    cancel: { from: ['draft', 'scheduled', 'running', 'paused'], to: 'cancelled' },
    finish: { from: ['running'], to: 'finished' },
    fail: { from: ['running', 'paused'], to: 'failed' },
    retry: { from: ['finished', 'failed'], to: 'running' },
  };

export function transition(action: CampaignAction) {
  return TRANSITIONS[action];
}

export function canTransition(from: CampaignStatus, action: CampaignAction): boolean {
  return TRANSITIONS[action].from.includes(from);
}

/** Which fields may change in which status (docs/contract.md §4.1). */
export function canEdit(status: CampaignStatus, field: 'content' | 'other'): boolean {
  if (field === 'content') return status === 'draft' || status === 'scheduled';
  return status === 'draft' || status === 'scheduled' || status === 'paused';
}

export const DELIVERY_STATUSES = [
  'queued',
  'sending',
  'sent',
  'failed',
  'bounced',
  'suppressed',
  'unknown',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A campaign's counts as the API reports them: recipients, the ledger's statuses, feedback. */
export const CAMPAIGN_COUNTS = [
  'recipients',
  ...DELIVERY_STATUSES,
  'complained',
  'unsubscribed',
  'opened',
  'clicked',
] as const;

/** A count per ledger status, every status present. */
export function zeroDeliveryCounts(): Record<DeliveryStatus, number> {
  return Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
}

/** Exponential backoff for transient SMTP failures: base, 2×base, 4×base, … */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return baseMs * 2 ** Math.max(0, attempt - 1);
}

/** A ledger row claimed this long ago by a job that no longer runs: its outcome is unknown. */
export const STALE_SENDING_MS = 10 * 60_000;
