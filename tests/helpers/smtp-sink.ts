// A real SMTP server (smtp-server) that records every message it accepts, with hooks to make it
// misbehave the way real receivers do: per-recipient 4xx/5xx, auth failures, slow answers.
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { Socket } from 'node:net';
import PostalMime from 'postal-mime';

export interface ReceivedMessage {
  messageId: string;
  to: string;
  from: string;
  raw: string;
  subject: string;
  headers: Map<string, string>;
  html: string;
  text: string;
  /** The AUTH user of the connection it came on (each worker process can log in as its own). */
  user: string | undefined;
  /** Date.now() when the end of DATA arrived, before any configured delay. */
  receivedAt: number;
}

export interface SinkBehaviour {
  /** Answer RCPT TO: return an SMTP error to reject, undefined to accept. */
  onRcpt?: (address: string, attempt: number) => { code: number; message: string } | undefined;
  /** Answer the end of DATA for a recipient. */
  onData?: (to: string, attempt: number) => { code: number; message: string } | undefined;
  /** Refuse every AUTH with this answer. */
  authError?: { code: number; message: string };
  /**
   * Milliseconds to wait after the end of DATA before answering (a slow receiver). The message
   * is recorded after the wait even if the client went away meanwhile: the server had it all.
   */
  dataDelayMs?: (to: string) => number;
  /**
   * Cut the connection in the middle of DATA (after the first chunk of the message arrived):
   * the message is never accepted, and the client gets no reply.
   */
  dropInData?: (to: string, attempt: number) => boolean;
  /**
   * A server that stops answering: while true, no greeting, no reply to any command and no
   * answer to the end of DATA is ever given (not even later), and nothing is recorded.
   */
  silent?: boolean;
  /**
   * A relay's per-client connection limit (Postfix's smtpd_client_connection_count_limit):
   * a connection beyond it is greeted with 421 and closed.
   */
  maxConnections?: number;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMessage[];
  attempts: Map<string, number>;
  behaviour: SinkBehaviour;
  /** Connection errors other than resets by a client that went away. */
  connectionErrors: Error[];
  /** Connections greeted with 421 because of `maxConnections`. */
  refusedConnections: number;
  /** The most connections open at once. */
  peakConnections: number;
  byRecipient(): Map<string, ReceivedMessage[]>;
  /** Cuts every open connection: the next message needs a new one (and a new AUTH). */
  dropConnections(): void;
  /** Forgets the messages and attempts so far and restores the default behaviour. */
  reset(): void;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpSink(behaviour: SinkBehaviour = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  const attempts = new Map<string, number>();
  const connectionErrors: Error[] = [];
  const sink: Partial<SmtpSink> = {
    messages,
    attempts,
    behaviour,
    connectionErrors,
    refusedConnections: 0,
    peakConnections: 0,
  };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(_session, callback) {
      if (sink.behaviour!.silent) return; // never greets
      const max = sink.behaviour!.maxConnections;
      if (max !== undefined && sockets.size > max) {
        sink.refusedConnections!++;
        return callback(smtpError(421, 'Too many connections from your host'));
      }
      sink.peakConnections = Math.max(sink.peakConnections!, sockets.size);
      callback();
    },
    onMailFrom(_address, _session, callback) {
      if (sink.behaviour!.silent) return;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (sink.behaviour!.silent) return;
      const err = sink.behaviour!.authError;
      if (err) return callback(smtpError(err.code, err.message));
      callback(null, { user: auth.username ?? 'anyone' });
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback) {
      if (sink.behaviour!.silent) return;
      const to = address.address.toLowerCase();
      const n = (attempts.get(to) ?? 0) + 1;
      attempts.set(to, n);
      const err = sink.behaviour!.onRcpt?.(to, n);
      if (err) return callback(smtpError(err.code, err.message));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const first = session.envelope.rcptTo[0]?.address.toLowerCase() ?? '';
      let dropped = false;
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        if (!dropped && sink.behaviour!.dropInData?.(first, attempts.get(first) ?? 1)) {
          dropped = true;
          connectionOf(session.id)?.destroy();
        }
      });
      stream.on('end', () => {
        if (dropped || sink.behaviour!.silent) return; // no answer, nothing accepted
        const receivedAt = Date.now();
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const user = typeof session.user === 'string' ? session.user : undefined;
        const delay = sink.behaviour!.dataDelayMs?.(to[0]!) ?? 0;
        if (delay > 0) setTimeout(answer, delay);
        else answer();
        function answer() {
          if (sink.behaviour!.silent) return;
          const err = sink.behaviour!.onData?.(to[0]!, attempts.get(to[0]!) ?? 1);
          if (err) return callback(smtpError(err.code, err.message));
          PostalMime.parse(raw)
            .then((parsed) => {
              const headers = new Map(parsed.headers.map((h) => [h.key.toLowerCase(), h.value]));
              for (const address of to) {
                messages.push({
                  messageId: parsed.messageId ?? '',
                  to: address,
                  from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                  raw,
                  subject: parsed.subject ?? '',
                  headers,
                  html: parsed.html ?? '',
                  text: parsed.text ?? '',
                  user,
                  receivedAt,
                });
              }
              callback();
            })
            .catch((error: Error) => callback(error));
        }
      });
    },
  });
  // A client that dies mid-transaction resets its connection; a real server shrugs that off,
  // and without a listener smtp-server would throw it as an uncaught exception.
  /** The socket of the connection serving one session. */
  function connectionOf(sessionId: string): { destroy(): void } | undefined {
    const connections = (
      server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }
    ).connections;
    for (const c of connections) if (c.id === sessionId) return c._socket;
    return undefined;
  }
  server.on('error', (error: Error & { code?: string }) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') connectionErrors.push(error);
  });
  // Every socket, whatever state its SMTP session is in (even one still waiting for a greeting).
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  Object.assign(sink, {
    port,
    url: `smtp://user:pass@127.0.0.1:${port}`,
    byRecipient() {
      const map = new Map<string, ReceivedMessage[]>();
      for (const m of messages) map.set(m.to, [...(map.get(m.to) ?? []), m]);
      return map;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    reset() {
      messages.length = 0;
      attempts.clear();
      sink.refusedConnections = 0;
      sink.peakConnections = 0;
      for (const key of Object.keys(behaviour)) delete behaviour[key as keyof SinkBehaviour];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return sink as SmtpSink;
}
