import { describe, expect, it } from 'vitest';
import {
  classifyWindow,
  messageResultOf,
  type SendResult,
  type SentMessage,
} from '../../src/domain/window-outcomes.js';

const policy = { maxAttempts: 3, retryBaseDelayMs: 1000 };
const NOW = Date.parse('2026-12-04T12:00:00Z');

function message(id: number, result: SendResult, attempt = 1): SentMessage {
  return { deliveryId: id, subscriberId: id * 10, email: `s${id}@example.org`, attempt, result };
}
const fail = (error: object): SendResult => ({ ok: false, error: { message: 'x', ...error } });

describe('what a window of SMTP answers means for the ledger', () => {
  it('marks accepted messages sent with their Message-ID, and ineligible rows suppressed', () => {
    const r = classifyWindow([7], [message(1, { ok: true, messageId: '<a@x>' })], policy, NOW);
    expect(r.outcomes).toEqual([
      { id: 7, status: 'suppressed', error: 'no longer subscribed or deliverable' },
      { id: 1, status: 'sent', messageId: '<a@x>' },
    ]);
    expect(r).toMatchObject({ accepted: 1, attempted: 1, transportErrors: 0, retries: [] });
  });

  it('queues a transient failure again with exponential backoff until the last attempt fails it', () => {
    const busy = fail({ responseCode: 451, response: '451 4.3.0 try later' });
    const r = classifyWindow(
      [],
      [message(1, busy, 1), message(2, busy, 2), message(3, busy, 3)],
      policy,
      NOW,
    );
    expect(r.outcomes.map((o) => [o.id, o.status, o.retryAt?.getTime()])).toEqual([
      [1, 'queued', NOW + 1000],
      [2, 'queued', NOW + 2000],
      [3, 'failed', undefined],
    ]);
    expect(r.retries).toEqual([
      { id: 1, attempt: 1, delay: 1000 },
      { id: 2, attempt: 2, delay: 2000 },
    ]);
  });

  it('gives a transport error its attempt back and counts it for the breaker', () => {
    const auth = fail({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 bad credentials' });
    const r = classifyWindow([], [message(1, auth, 3), message(2, auth)], policy, NOW);
    expect(r.outcomes.every((o) => o.status === 'queued' && o.refundAttempt === true)).toBe(true);
    expect(r.transportErrors).toBe(2);
    expect(r.attempted).toBe(2);
    expect(r.firstTransportError?.reason).toContain('535');
  });

  it('caps the transport retry delay whatever the backoff base', () => {
    const refused = fail({ message: 'connect ECONNREFUSED 127.0.0.1:2525' });
    const r = classifyWindow(
      [],
      [message(1, refused)],
      { ...policy, retryBaseDelayMs: 60_000 },
      NOW,
    );
    expect(r.retries).toEqual([{ id: 1, attempt: 1, delay: 5000 }]);
  });

  it('turns a 5xx recipient refusal into a bounce to record, and a policy refusal into failed', () => {
    const r = classifyWindow(
      [],
      [
        message(1, fail({ responseCode: 550, response: '550 5.1.1 no such user' }), 2),
        message(2, fail({ responseCode: 552, response: '552 5.2.2 mailbox full' })),
        message(3, fail({ responseCode: 550, response: '550 5.7.1 listed by Spamhaus' })),
      ],
      policy,
      NOW,
    );
    expect(r.outcomes.map((o) => o.status)).toEqual(['bounced', 'bounced', 'failed']);
    expect(r.bounces.map((b) => [b.deliveryId, b.bounceType, b.attempt, b.email])).toEqual([
      [1, 'hard', 2, 's1@example.org'],
      [2, 'soft', 1, 's2@example.org'],
    ]);
  });

  it('fails an unsendable message for good and leaves a revoked one to the run that took it', () => {
    const r = classifyWindow(
      [],
      [
        message(1, fail({ message: 'render limit', unsendable: true })),
        message(2, fail({ message: 'taken back', revoked: true })),
      ],
      policy,
      NOW,
    );
    expect(r.outcomes).toEqual([{ id: 1, status: 'failed', error: 'render limit' }]);
    expect(r.attempted).toBe(1);
  });

  it('names a requeued row a retry for the message counter', () => {
    expect(messageResultOf({ id: 1, status: 'queued' })).toBe('retried');
    expect(messageResultOf({ id: 1, status: 'bounced' })).toBe('bounced');
  });
});
