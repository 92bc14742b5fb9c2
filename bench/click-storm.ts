// The load of the click benchmark: `clients` concurrent keep-alive HTTP clients, each taking
// the next click of a shared list and timing the redirect, as a crowd of readers (or a link
// scanner) opening a newsletter's links at once. In the orchestrator's process: the machine's
// two cores are shared with the API, as they would be by any load generator on it.
import http from 'node:http';

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

export interface StormResult {
  /** Milliseconds from request to the 302's headers, per answered click. */
  latencies: number[];
  /** How many times each click URL was answered with a redirect. */
  answered: Map<string, number>;
  /** Where each click URL redirected (one place per URL, or the storm fails). */
  targets: Map<string, string>;
  /** Requests that failed (refused connections once the API stops). */
  failed: number;
  seconds: number;
}

export interface StormOptions {
  base: string;
  clients: number;
  /** Called after every answered click, with how many have been answered so far. */
  onAnswer?: (answered: number) => void;
  /** Stop each client at its first failed request instead of throwing (the SIGTERM phase). */
  stopOnFailure?: boolean;
}

function get(agent: http.Agent, base: string, path: string) {
  return new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const req = http.get(base + path, { agent, headers: { 'User-Agent': BROWSER } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Sends every click of `clicks` (full URLs; only their path is requested from `base`). */
export async function storm(clicks: string[], options: StormOptions): Promise<StormResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const result: StormResult = {
    latencies: [],
    answered: new Map(),
    targets: new Map(),
    failed: 0,
    seconds: 0,
  };
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < clicks.length) {
      const url = clicks[next++]!;
      const t = performance.now();
      let answer;
      try {
        answer = await get(agent, options.base, new URL(url).pathname);
      } catch (error) {
        result.failed++;
        if (options.stopOnFailure) return;
        throw error;
      }
      record(result, url, answer, performance.now() - t);
      options.onAnswer?.(result.latencies.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, client));
  } finally {
    agent.destroy();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

function record(
  result: StormResult,
  url: string,
  answer: { status: number; location: string | undefined },
  ms: number,
) {
  if (answer.status !== 302 || !answer.location) {
    throw new Error(`${url}: expected a 302 redirect, got ${answer.status}`);
  }
  const before = result.targets.get(url);
  if (before !== undefined && before !== answer.location) {
    throw new Error(`${url} redirected to ${before} and then to ${answer.location}`);
  }
  result.targets.set(url, answer.location);
  result.answered.set(url, (result.answered.get(url) ?? 0) + 1);
  result.latencies.push(ms);
}
