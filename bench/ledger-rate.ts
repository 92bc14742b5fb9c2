// `node --import tsx bench/ledger-rate.ts [--rows N] [--connections C] [--window W]
//                                         [--without-counters]`
//
// The ledger's write capacity (docs/performance.md, "Scaling"): how many deliveries a second
// PostgreSQL can move through the two statements a window costs — claimed (queued → sending)
// and recorded (sending → sent, with the message id) — with the counters' triggers, from C
// connections at once, as C worker processes' windows would. No SMTP, no rendering: the
// ceiling that adding worker machines runs into. Its own database, dropped afterwards.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { admin, round, withScratchDatabase } from './support.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    connections: { type: 'string', default: '8' },
    window: { type: 'string', default: '40' },
    // Drops the counters' triggers first: what they cost.
    'without-counters': { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const connections = Number(args.connections);
const window = Number(args.window);

async function seed(url: string): Promise<void> {
  await admin(async (db) => {
    await db.query(`INSERT INTO lists (name) VALUES ('Ledger')`);
    await db.query(
      `INSERT INTO subscribers (email, name)
       SELECT 'r' || g || '@example.org', 'R ' || g FROM generate_series(1, $1::int) g`,
      [rows],
    );
    const { rows: t } = await db.query<{ id: number }>(
      `INSERT INTO templates (name, mjml) VALUES ('t', '<mjml><mj-body></mj-body></mjml>') RETURNING id`,
    );
    const { rows: c } = await db.query<{ id: number }>(
      `INSERT INTO campaigns (name, subject, template_id, status) VALUES ('c', 's', $1, 'running')
       RETURNING id`,
      [t[0]!.id],
    );
    await db.query(
      `INSERT INTO deliveries (campaign_id, subscriber_id) SELECT $1, id FROM subscribers`,
      [c[0]!.id],
    );
    await db.query('ANALYZE');
  }, url);
}

async function main(): Promise<void> {
  await withScratchDatabase('bulletin_ledger', async (url) => {
    await seed(url);
    if (args['without-counters']) {
      await admin(async (db) => {
        for (const t of ['insert', 'update', 'delete'])
          await db.query(`DROP TRIGGER deliveries_count_${t} ON deliveries`);
      }, url);
    }
    const { rows: ids } = await admin(
      (db) => db.query<{ min: string; max: string }>('SELECT min(id), max(id) FROM deliveries'),
      url,
    );
    let next = Number(ids[0]!.min);
    const last = Number(ids[0]!.max);
    const pool = new pg.Pool({ connectionString: url, max: connections });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next <= last) {
          const from = next;
          next += window;
          await pool.query(
            `UPDATE deliveries SET status = 'sending', attempts = attempts + 1
              WHERE id BETWEEN $1 AND $2 AND status = 'queued'`,
            [from, from + window - 1],
          );
          await pool.query(
            `UPDATE deliveries SET status = 'sent', sent_at = now(), message_id = id::text
              WHERE id BETWEEN $1 AND $2 AND status = 'sending'`,
            [from, from + window - 1],
          );
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await pool.end();
    process.stdout.write(
      `${JSON.stringify({ rows, connections, window, counters: !args['without-counters'], seconds: round(seconds, 2), deliveriesPerSec: round(rows / seconds) })}\n`,
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
