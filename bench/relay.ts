// The relay measurement: the same sink made to answer each message's final dot after
// `latencyMs`, as a real relay does once it has written the message to its queue. With tens
// of milliseconds per message, connection count decides the speed, not CPU: the raw sender
// and the pipeline get the same number of connections (SMTP_POOL_SIZE per worker process),
// and `ratio` says how much of that the pipeline keeps.
import { runRaw, type Sink } from './processes.js';
import { admin, round } from './support.js';
import { timedSend, type Call } from './world.js';

export interface RelayResult {
  latencyMs: number;
  connections: number;
  raw: { messages: number; msgsPerSec: number };
  endToEnd: { recipients: number; seconds: number; msgsPerSec: number };
  ratio: number;
}

export interface RelayRound {
  call: Call;
  sink: Sink;
  databaseUrl: string;
  /** A campaign body to the round's audience list. */
  body: Record<string, unknown>;
  recipients: number;
}

export async function measureRelay(
  r: RelayRound,
  latencyMs: number,
  connections: number,
  log: (line: string) => void,
): Promise<RelayResult> {
  // As many pre-built messages as the campaign has recipients (at least 1,000).
  const messages = Math.max(1000, r.recipients);
  await r.sink.reset({ latencyMs });
  const raw = await runRaw(r.sink.port, messages, connections);
  log(`relay ${latencyMs} ms: raw ${round(raw.msgsPerSec)} msg/s over ${connections} connections`);
  const sent = await timedSend(r.call, r.sink, r.body, r.recipients, { latencyMs });
  await r.sink.reset();
  const ledgerSent = await admin(async (db) => {
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND status = 'sent'",
      [sent.id],
    );
    return rows[0]!.n;
  }, r.databaseUrl);
  if (ledgerSent !== r.recipients) {
    throw new Error(`relay: the ledger says ${ledgerSent} sent, of ${r.recipients}`);
  }
  log(`relay ${latencyMs} ms: end to end ${sent.msgsPerSec} msg/s`);
  return {
    latencyMs,
    connections,
    raw: { messages, msgsPerSec: round(raw.msgsPerSec) },
    endToEnd: { recipients: r.recipients, seconds: sent.seconds, msgsPerSec: sent.msgsPerSec },
    ratio: round(sent.msgsPerSec / raw.msgsPerSec, 3),
  };
}
