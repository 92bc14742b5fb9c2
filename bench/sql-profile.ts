// `node --import tsx bench/sql-profile.ts [--existing N] [--batch B] [--chunk C]`
//
// Where PostgreSQL spends an import batch and a draw chunk (docs/performance.md, "Imports and
// the draw"): the repositories' own statements run under auto_explain (ANALYZE, with trigger
// times), so the plan printed is the one the service runs. The import batch writes B new
// addresses into a database that already holds N subscribers with their subscriptions and
// consent records; the draw chunk draws C of them into a campaign's ledger. Its own database,
// dropped afterwards. auto_explain ships with PostgreSQL's contrib; LOAD needs a superuser.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ImportsRepository } from '../src/db/repositories/imports.repository.js';
import { DeliveriesRepository } from '../src/db/repositories/deliveries.repository.js';
import { withScratchDatabase } from './support.js';

const { values: args } = parseArgs({
  options: {
    existing: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '2000' },
    chunk: { type: 'string', default: '50000' },
  },
});
const existing = Number(args.existing);
const batch = Number(args.batch);
const chunk = Math.min(Number(args.chunk), existing);

/** Subscribers in random address order, as a real list's are, each subscribed with consent. */
async function seed(
  db: pg.Client,
): Promise<{ listId: number; importId: number; campaignId: number }> {
  const list = await db.query<{ id: number }>(`INSERT INTO lists (name) VALUES ('P') RETURNING id`);
  const listId = list.rows[0]!.id;
  await db.query(
    `INSERT INTO subscribers (email, name)
     SELECT 'Person.' || g || '@Example' || (g % 50) || '.org', 'P ' || g
     FROM generate_series(1, $1::int) g ORDER BY random()`,
    [existing],
  );
  await db.query(
    `INSERT INTO subscriptions (list_id, subscriber_id, status)
     SELECT $1, id, 'confirmed' FROM subscribers`,
    [listId],
  );
  await db.query(
    `INSERT INTO consent_records (subscriber_id, list_id, action, status, source)
     SELECT id, $1, 'subscribe', 'confirmed', 'import' FROM subscribers`,
    [listId],
  );
  const imp = await db.query<{ id: number }>(
    `INSERT INTO imports (list_id, mode, status) VALUES ($1, 'upsert', 'running') RETURNING id`,
    [listId],
  );
  const t = await db.query<{ id: number }>(
    `INSERT INTO templates (name, mjml) VALUES ('t', '<mjml><mj-body></mj-body></mjml>') RETURNING id`,
  );
  const c = await db.query<{ id: number }>(
    `INSERT INTO campaigns (name, subject, template_id) VALUES ('c', 's', $1) RETURNING id`,
    [t.rows[0]!.id],
  );
  await db.query(`INSERT INTO campaign_lists (campaign_id, list_id, position) VALUES ($1, $2, 0)`, [
    c.rows[0]!.id,
    listId,
  ]);
  await db.query('ANALYZE');
  return { listId, importId: imp.rows[0]!.id, campaignId: c.rows[0]!.id };
}

/** Runs `work` in a transaction with auto_explain on; returns the plans it reported. */
async function explained(db: pg.Client, work: () => Promise<unknown>): Promise<string[]> {
  const plans: string[] = [];
  const onNotice = (n: { message?: string }) => {
    if (n.message?.includes('Query Text')) plans.push(n.message);
  };
  db.on('notice', onNotice);
  await db.query('BEGIN');
  try {
    await work();
    await db.query('COMMIT');
  } finally {
    db.off('notice', onNotice);
  }
  return plans;
}

/** The lines that say where the time went: the writes, the scans feeding them, the triggers. */
function summary(plan: string): string {
  return plan
    .split('\n')
    .filter((l) => /duration:|Insert on|Update on|Trigger|Function Scan|Index Scan/.test(l))
    .map((l) => l.replace(/\(cost=[^)]*\) /, ''))
    .join('\n');
}

async function main(): Promise<void> {
  await withScratchDatabase('bulletin_sqlprof', async (url) => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await profile(db);
    } finally {
      await db.end();
    }
  });
}

async function profile(db: pg.Client): Promise<void> {
  const { listId, importId, campaignId } = await seed(db);
  await db.query(`LOAD 'auto_explain'`);
  for (const setting of [
    'auto_explain.log_min_duration = 0',
    'auto_explain.log_analyze = on',
    'auto_explain.log_triggers = on',
    'auto_explain.log_level = notice',
  ])
    await db.query(`SET ${setting}`);

  const rows = Array.from({ length: batch }, (_, i) => ({
    email: `New.${i}.${randomBytes(3).toString('hex')}@Example${i % 50}.org`,
    name: `N ${i}`,
    attributes: { city: 'Lyon' },
  }));
  const imports = new ImportsRepository(db);
  const imported = await explained(db, () =>
    imports.applyBatch({ id: importId, list_id: listId, mode: 'upsert' }, rows, 'confirmed'),
  );
  process.stdout.write(`# import batch: ${batch} new rows, ${existing} subscribers there\n`);
  process.stdout.write(`${summary(imported.at(-1)!)}\n\n`);

  const ledger = new DeliveriesRepository(db);
  const drawn = await explained(db, () => ledger.drawChunk(campaignId, 0, chunk));
  process.stdout.write(`# draw chunk: ${chunk} subscribers into the ledger\n`);
  process.stdout.write(`${summary(drawn.at(-1)!)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
