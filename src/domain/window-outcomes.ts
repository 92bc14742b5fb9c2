// What a window's SMTP answers mean for the ledger (docs/campaigns.md, "Sending a batch"): a pure
// function of the answers, the attempts and the retry policy, so every rule of the outcome is
// in one place and testable without a server.
import { retryDelayMs, type DeliveryStatus } from './campaign.js';
import { classifySmtpError, type SmtpErrorLike } from './smtp-errors.js';

/** One ledger row's new state, written by the statement that records a window. */
export interface Outcome {
  id: number;
  status: DeliveryStatus;
  messageId?: string | null;
  error?: string | null;
  /** For a transient failure: when to try again (the row goes back to 'queued'). */
  retryAt?: Date | null;
  /** A transport error is not the recipient's attempt: it is given back. */
  refundAttempt?: boolean;
}

/**
 * `unsendable`: our side cannot build this message (render limits, unsafe header data);
 * `revoked`: recovery took the row back (its run was thought dead), so it was not sent.
 */
export type SendFailure = SmtpErrorLike & {
  message: string;
  unsendable?: boolean;
  revoked?: boolean;
};

export type SendResult = { ok: true; messageId: string } | { ok: false; error: SendFailure };

/** One message of the window as sent: its row, whom it was for, and the server's answer. */
export interface SentMessage {
  deliveryId: number;
  subscriberId: number;
  email: string;
  /** This claim's attempt number (1 for the first try). */
  attempt: number;
  result: SendResult;
}

/** A retry job to queue: the row waits `delay` ms in 'queued' before the job claims it. */
export interface Retry {
  id: number;
  attempt: number;
  delay: number;
}

/** A bounce the server gave during the SMTP transaction, recorded as a feedback event. */
export interface SmtpBounce {
  deliveryId: number;
  subscriberId: number;
  email: string;
  attempt: number;
  bounceType: 'hard' | 'soft';
  reason: string;
}

export interface WindowResults {
  outcomes: Outcome[];
  retries: Retry[];
  bounces: SmtpBounce[];
  /** Messages refused by the transport (auth, refused connection): the breaker counts them. */
  transportErrors: number;
  firstTransportError?: { error: SendFailure; reason: string } | undefined;
  /** Messages the server accepted. */
  accepted: number;
  /** Messages an SMTP transaction was attempted for (revoked ones excluded). */
  attempted: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  retryBaseDelayMs: number;
}

/** A transport error is retried soon whatever the backoff: the server, not the message, failed. */
const TRANSPORT_RETRY_CAP_MS = 5000;

/**
 * Classifies a window. `ineligible`: claimed rows whose subscriber may no longer be mailed
 * (re-checked at the claim); `sent`: the messages the window tried.
 */
export function classifyWindow(
  ineligible: readonly number[],
  sent: readonly SentMessage[],
  policy: RetryPolicy,
  now: number,
): WindowResults {
  const results: WindowResults = {
    outcomes: ineligible.map((id) => ({
      id,
      status: 'suppressed',
      error: 'no longer subscribed or deliverable',
    })),
    retries: [],
    bounces: [],
    transportErrors: 0,
    accepted: 0,
    attempted: 0,
  };
  for (const message of sent) classifyOne(message, policy, now, results);
  return results;
}

function classifyOne(m: SentMessage, policy: RetryPolicy, now: number, into: WindowResults): void {
  const id = m.deliveryId;
  if (m.result.ok) {
    into.attempted++;
    into.accepted++;
    into.outcomes.push({ id, status: 'sent', messageId: m.result.messageId });
    return;
  }
  const error = m.result.error;
  // Recovery took this row back (this run was thought dead): it is another run's now.
  if (error.revoked) return;
  into.attempted++;
  if (error.unsendable) {
    into.outcomes.push({ id, status: 'failed', error: error.message.slice(0, 500) });
    return;
  }
  const verdict = classifySmtpError(error);
  switch (verdict.kind) {
    case 'transport': {
      into.transportErrors++;
      into.firstTransportError ??= { error, reason: verdict.reason };
      const delay = Math.min(policy.retryBaseDelayMs, TRANSPORT_RETRY_CAP_MS);
      into.outcomes.push({
        id,
        status: 'queued',
        error: verdict.reason,
        retryAt: new Date(now + delay),
        refundAttempt: true,
      });
      into.retries.push({ id, attempt: m.attempt, delay });
      return;
    }
    case 'transient': {
      if (m.attempt >= policy.maxAttempts) {
        into.outcomes.push({ id, status: 'failed', error: verdict.reason });
        return;
      }
      const delay = retryDelayMs(policy.retryBaseDelayMs, m.attempt);
      into.outcomes.push({
        id,
        status: 'queued',
        error: verdict.reason,
        retryAt: new Date(now + delay),
      });
      into.retries.push({ id, attempt: m.attempt, delay });
      return;
    }
    case 'bounce':
      into.outcomes.push({ id, status: 'bounced', error: verdict.reason });
      into.bounces.push({
        deliveryId: id,
        subscriberId: m.subscriberId,
        email: m.email,
        attempt: m.attempt,
        bounceType: verdict.bounceType,
        reason: verdict.reason,
      });
      return;
    case 'sender-blame':
      // The receiver objects to us, not to the recipient: never suppress them for it.
      into.outcomes.push({ id, status: 'failed', error: verdict.reason });
      return;
  }
}

/** How the message counter names an outcome: a row written back as 'queued' is a retry. */
export function messageResultOf(
  o: Outcome,
): 'sent' | 'failed' | 'bounced' | 'unknown' | 'suppressed' | 'retried' {
  return o.status === 'queued' || o.status === 'sending' ? 'retried' : o.status;
}
