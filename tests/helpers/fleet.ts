// Real worker processes (`node --import tsx main.ts worker`) attached to a test context's
// database and queue prefix, each logging in to the SMTP sink under its own user name so the
// sink can tell which process delivered which message.
import { deleteQueueKeys, REDIS_URL, testEnv, type TestContext } from './context.js';
import { startService, type ServiceProcess } from './process.js';
import type { ReceivedMessage, SmtpSink } from './smtp-sink.js';

/** The sink's URL with its own AUTH user: messages it receives carry `user`. */
export function sinkUrlAs(sink: SmtpSink, user: string): string {
  return `smtp://${encodeURIComponent(user)}:pass@127.0.0.1:${sink.port}`;
}

/** The environment of a process that shares the context's database and queue prefix. */
export function processEnv(ctx: TestContext, extra: Record<string, string> = {}) {
  return testEnv(ctx.dbName, ctx.config.queuePrefix, { LOG_LEVEL: 'info', ...extra });
}

/** Spawns a worker process and resolves once its workers run (before its reconcile ends). */
export async function startWorkerProcess(
  ctx: TestContext,
  extra: Record<string, string> = {},
): Promise<ServiceProcess> {
  const worker = startService('worker', processEnv(ctx, extra));
  await worker.waitForEvent('workers_started', 60_000);
  return worker;
}

/** Messages of one campaign (by X-Bulletin-Campaign), for sinks shared between tests. */
export function messagesOf(sink: SmtpSink, campaignUuid: string): ReceivedMessage[] {
  return sink.messages.filter((m) => m.headers.get('x-bulletin-campaign') === campaignUuid);
}

export function byRecipient(messages: ReceivedMessage[]): Map<string, ReceivedMessage[]> {
  const map = new Map<string, ReceivedMessage[]>();
  for (const m of messages) map.set(m.to, [...(map.get(m.to) ?? []), m]);
  return map;
}

/** How many of the timestamps fall in each wall-clock second (ms epoch → count). */
export function perSecond(timestamps: number[]): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const t of timestamps) {
    const second = Math.floor(t / 1000);
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
  }
  return buckets;
}

/** Deletes one prefix's keys (as Redis losing its data would, for that deployment). */
export function flushPrefix(prefix: string): Promise<number> {
  return deleteQueueKeys(REDIS_URL, prefix);
}
