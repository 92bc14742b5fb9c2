// The import tests' tools, bound to a context: lists, uploads and their finished imports, what
// the tables then hold, and uploads stored as an interrupted upload would have left them.
import { expect } from 'vitest';
import { ImportsRepository } from '../../src/db/repositories/imports.repository.js';
import { IMPORT_LANES } from '../../src/domain/import-lanes.js';
import { waitFor, type TestContext } from './context.js';

export interface ImportBody {
  id: number;
  status: string;
  total: number;
  processed: number;
  inserted: number;
  updated: number;
  skipped: number;
  errorCount: number;
  errors: { line: number; reason: string }[];
  failure: string | null;
}

export function importTools(ctx: TestContext) {
  const tools = {
    createList: async (optin: 'single' | 'double' = 'single'): Promise<number> => {
      const res = await ctx
        .api()
        .post('/api/v1/lists')
        .send({ name: `Import target ${Math.random()}`, optin });
      expect(res.status).toBe(201);
      return res.body.id as number;
    },

    upload: (listId: number, csv: string | Buffer, mode?: string) => {
      const query = mode ? `?mode=${mode}` : '';
      return ctx
        .api()
        .post(`/api/v1/lists/${listId}/imports${query}`)
        .set('Content-Type', 'text/csv')
        .send(csv);
    },

    finished: async (importId: number): Promise<ImportBody> => {
      return waitFor(async () => {
        const res = await ctx.api().get(`/api/v1/imports/${importId}`);
        expect(res.status).toBe(200);
        const body = res.body as ImportBody;
        return body.status === 'done' || body.status === 'failed' ? body : undefined;
      });
    },

    /** Uploads, waits for the worker and returns the finished import. */
    importCsv: async (listId: number, csv: string | Buffer, mode?: string) => {
      const res = await tools.upload(listId, csv, mode);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return tools.finished(res.body.id as number);
    },

    subscriber: async (email: string) => {
      const { rows } = await ctx.db.query<{
        id: number;
        email: string;
        name: string;
        attributes: Record<string, string>;
        status: string;
      }>(
        'SELECT id, email, name, attributes, status FROM subscribers WHERE email_key = lower($1)',
        [email],
      );
      return rows[0];
    },

    subscriptionStatus: async (listId: number, email: string) => {
      const { rows } = await ctx.db.query<{ status: string }>(
        `SELECT x.status FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
         WHERE x.list_id = $1 AND s.email_key = lower($2)`,
        [listId, email],
      );
      return rows[0]?.status;
    },

    listEmails: async (listId: number): Promise<string[]> => {
      const { rows } = await ctx.db.query<{ email: string }>(
        `SELECT s.email FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
         WHERE x.list_id = $1 ORDER BY s.email`,
        [listId],
      );
      return rows.map((r) => r.email);
    },

    createSubscriber: async (body: Record<string, unknown>): Promise<number> => {
      const res = await ctx.api().post('/api/v1/subscribers').send(body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as number;
    },

    storedImportRows: async (): Promise<{ imports: number; chunks: number }> => {
      const { rows } = await ctx.db.query<{ imports: number; chunks: number }>(
        `SELECT (SELECT count(*)::int FROM imports) AS imports,
                (SELECT count(*)::int FROM import_chunks) AS chunks`,
      );
      return rows[0]!;
    },

    /** Stores a file as an upload would have (chunks at the given byte offsets), without a job. */
    storeUpload: async (
      listId: number,
      file: Buffer,
      cuts: number[] = [],
      mode: 'upsert' | 'skip-existing' = 'upsert',
      lanes = IMPORT_LANES,
    ): Promise<number> => {
      const repo = new ImportsRepository(ctx.db);
      const imp = await repo.create(listId, mode);
      const bounds = [0, ...cuts, file.length];
      for (let i = 0; i < bounds.length - 1; i++) {
        await repo.appendChunk(imp.id, i, file.subarray(bounds[i], bounds[i + 1]));
      }
      const lines = file
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length;
      await repo.markQueued(imp.id, file.length, lines - 1, lanes);
      return imp.id;
    },

    getImport: async (id: number): Promise<ImportBody> => {
      const res = await ctx.api().get(`/api/v1/imports/${id}`);
      expect(res.status).toBe(200);
      return res.body as ImportBody;
    },
  };
  return tools;
}
