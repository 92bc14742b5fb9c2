// The benchmark's SMTP sink, in a process of its own: a real smtp-server that accepts
// everything, discards the data, and counts messages and bytes. The orchestrator talks to it
// over IPC: `reset`, `stats` (counts, first/last arrival, one sample message kept whole), and
// for the click storm `links` (each message's distinct click links, collected after a `reset`
// with `collect: true`; off otherwise, so the send benchmark's sink does no extra work).
// `reset` with `latencyMs` makes it a realistic relay: each message's final dot is answered
// only after that delay (a real MTA writes the message to its queue first).
import { SMTPServer } from 'smtp-server';

interface Stats {
  count: number;
  bytes: number;
  firstAt: number | null;
  lastAt: number | null;
  sample: string | null;
}

let stats: Stats = { count: 0, bytes: 0, firstAt: null, lastAt: null, sample: null };
let collect = false;
let latencyMs = 0;
let links: string[][] = [];

/** The distinct `/l/` links of a raw message (its quoted-printable soft breaks undone). */
function clickLinksOf(raw: string): string[] {
  const text = raw.replace(/=\r\n/g, '');
  return [...new Set(text.match(/https?:\/\/[^\s"'<>]+\/l\/[A-Za-z0-9._-]+/g) ?? [])];
}

const server = new SMTPServer({
  secure: false,
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  size: 50 * 1024 * 1024,
  maxClients: 1000,
  onAuth(_auth, _session, callback) {
    callback(null, { user: 'bench' });
  },
  onData(stream, _session, callback) {
    let bytes = 0;
    const keep = stats.sample === null || collect;
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (keep) chunks.push(chunk);
    });
    stream.on('end', () => {
      const now = Date.now();
      stats.count++;
      stats.bytes += bytes;
      stats.firstAt ??= now;
      stats.lastAt = now;
      if (keep) {
        const raw = Buffer.concat(chunks).toString('utf8');
        stats.sample ??= raw;
        if (collect) links.push(clickLinksOf(raw));
      }
      if (latencyMs > 0) setTimeout(callback, latencyMs);
      else callback();
    });
  },
});
server.on('error', () => undefined);

server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'listening', port });
});

process.on('message', (message: { cmd: string; collect?: boolean; latencyMs?: number }) => {
  if (message.cmd === 'reset') {
    stats = { count: 0, bytes: 0, firstAt: null, lastAt: null, sample: null };
    collect = message.collect === true;
    latencyMs = message.latencyMs ?? 0;
    links = [];
    process.send?.({ type: 'reset' });
  } else if (message.cmd === 'links') {
    process.send?.({ type: 'links', links });
  } else if (message.cmd === 'stats') {
    process.send?.({ type: 'stats', stats });
  } else if (message.cmd === 'close') {
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
