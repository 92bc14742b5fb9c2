// Rows a dead batch run left `sending`: resolved from the run's in-flight markers (see
// src/queue/in-flight.ts) into sent, unknown or queued again. One path for the run that takes
// over the job and for the scheduler's sweep of claims no live job holds.
import type { Queryable } from '../db/pool.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import type { InFlight } from '../queue/in-flight.js';

export type AbandonedCounts = Record<'sent' | 'unknown' | 'queued', number>;

export async function resolveAbandoned(
  db: Queryable,
  inFlight: InFlight,
  campaignId: number,
  rows: { id: number; claimedBy: string }[],
): Promise<AbandonedCounts> {
  if (rows.length === 0) return { sent: 0, unknown: 0, queued: 0 };
  const resolved = await inFlight.resolve(campaignId, rows);
  const counts = await new DeliveriesRepository(db).resolveAbandoned(
    rows.map((r) => {
      const what = resolved.get(r.id) ?? { kind: 'unknown' as const };
      return what.kind === 'sent'
        ? { ...r, status: 'sent' as const, messageId: what.messageId }
        : { ...r, status: what.kind === 'requeue' ? ('queued' as const) : ('unknown' as const) };
    }),
  );
  await inFlight.forget(
    campaignId,
    rows.map((r) => r.id),
  );
  return counts;
}
