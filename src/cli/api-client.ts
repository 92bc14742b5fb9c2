// The CLI's only way to the service: HTTP with the bearer token, problem+json turned into
// readable errors, and a connection failure that names BULLETIN_URL. The token is sent, never
// printed; URLs are printed without any user:password part.
import type { z } from 'zod';
import { CliError, EXIT } from './errors.js';
import { clean } from './format.js';
import { problem, type Problem } from './schemas.js';

export interface ApiClientOptions {
  url: string;
  token: string;
  /** For JSON requests; uploads have none (a large file takes as long as it takes). */
  timeoutMs?: number;
}

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
    details: string[],
  ) {
    super(message, EXIT.failure, details);
    this.name = 'ApiError';
  }
}

/** The URL as it may be shown: no credentials. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href.replace(/\/+$/, '');
  } catch {
    return '(invalid URL)';
  }
}

type Body =
  { json: unknown } | { stream: ReadableStream<Uint8Array>; type: string; length?: number };

export class ApiClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: ApiClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.call('GET', path, schema);
  }

  post<T>(path: string, schema: z.ZodType<T>, json?: unknown): Promise<T> {
    return this.call('POST', path, schema, json === undefined ? undefined : { json });
  }

  /** For answers without a body (204). */
  async delete(path: string): Promise<void> {
    await this.fetch('DELETE', path);
  }

  /** Streams a body (a CSV file) without reading it into memory. */
  upload<T>(
    path: string,
    schema: z.ZodType<T>,
    stream: ReadableStream<Uint8Array>,
    type: string,
    length?: number,
  ): Promise<T> {
    return this.call('POST', path, schema, { stream, type, length });
  }

  /** Every page of a cursor-paginated collection. */
  async all<T>(path: string, schema: z.ZodType<{ data: T[]; next?: string | null }>) {
    const items: T[] = [];
    let after: string | null | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const query = `${sep}limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const page = await this.get(`${path}${query}`, schema);
      items.push(...page.data);
      after = page.next;
    } while (after);
    return items;
  }

  private async call<T>(
    method: string,
    path: string,
    schema: z.ZodType<T>,
    body?: Body,
  ): Promise<T> {
    const res = await this.fetch(method, path, body);
    let payload: unknown;
    try {
      payload = await res.json();
    } catch {
      throw new CliError(`${method} ${path}: the API answered ${res.status} without JSON`);
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      throw new CliError(
        `${method} ${path}: unexpected answer from the API (is BULLETIN_URL a Bulletin service of the same version?)`,
        EXIT.failure,
        parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
      );
    }
    return parsed.data;
  }

  private async fetch(method: string, path: string, body?: Body): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.options.token}`,
      Accept: 'application/json, application/problem+json',
    };
    const init: RequestInit = { method, headers };
    if (body && 'json' in body) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body.json);
    } else if (body) {
      headers['Content-Type'] = body.type;
      // Lets the server refuse an oversized file at once instead of after the upload.
      if (body.length !== undefined) headers['Content-Length'] = String(body.length);
      init.body = body.stream;
      init.duplex = 'half';
    }
    if (!body || 'json' in body) init.signal = AbortSignal.timeout(this.timeoutMs);

    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, init);
    } catch (error) {
      throw this.connectionError(error);
    }
    if (!res.ok) throw await this.httpError(method, path, res);
    return res;
  }

  private connectionError(error: unknown): CliError {
    const where = displayUrl(this.base);
    const err = error as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') {
      return new CliError(
        `the Bulletin API at ${where} (BULLETIN_URL) did not answer within ${this.timeoutMs / 1000}s`,
      );
    }
    // Only the cause's code or message: the error's own text may quote the full request URL.
    const reason = (err.cause?.code ?? err.cause?.message ?? err.message).replaceAll(
      this.base,
      where,
    );
    return new CliError(
      `cannot reach the Bulletin API at ${where} (${clean(reason)}); is the service running, and is BULLETIN_URL set to its address?`,
    );
  }

  private async httpError(method: string, path: string, res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let details: Problem | undefined;
    if (/json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        const parsed = problem.safeParse(JSON.parse(text));
        if (parsed.success) details = parsed.data;
      } catch {
        // not JSON after all: reported by status below
      }
    }
    const title =
      details?.title ?? `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    const message = details?.detail
      ? `${title}: ${details.detail}`
      : `${title} (${method} ${path})`;
    const lines = (details?.errors ?? []).map((e) => `${e.path}: ${e.message}`);
    if (res.status === 401) lines.push('check BULLETIN_TOKEN: it must be a valid, unrevoked token');
    return new ApiError(res.status, details, clean(message), lines.map(clean));
  }
}
