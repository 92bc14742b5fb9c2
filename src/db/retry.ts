// PostgreSQL restarting (an upgrade, a failover, a crash) cuts every connection for a few
// seconds. A delivery job that holds the outcomes of messages already handed to SMTP must not
// drop them by failing: its rows would stay `sending` and turn `unknown`. It waits for the
// database instead and writes them once it answers again.

/** SQLSTATEs and socket errors that mean "the server was not reachable or went away". */
const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown: the server is stopping (statement rolled back)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

const CONNECTION_TEXT =
  /Connection terminated|terminating connection|connection error|the database system is (starting up|shutting down)|Client has encountered a connection error/i;

export function isConnectionLoss(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return typeof message === 'string' && CONNECTION_TEXT.test(message);
}

export interface RetryOptions {
  /** Give up (rethrow) once the database has been away this long. */
  timeoutMs?: number;
  /** Called before each wait, e.g. to log that the database is away. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `fn`, and runs it again while it fails because the database is unreachable, with a
 * growing pause (0.1 s doubling to 2 s), for up to `timeoutMs` (60 s). Other errors and the
 * last connection error are thrown. Use it only for statements that are safe to run twice:
 * a statement cut by a shutdown was rolled back, but one cut while its COMMIT was on the wire
 * may have been applied.
 */
export async function retryOnConnectionLoss<T>(
  fn: () => Promise<T>,
  { timeoutMs = 60_000, onRetry }: RetryOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isConnectionLoss(error) || Date.now() + delay > deadline) throw error;
      onRetry?.(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}
