// The `bulletin` command against a running service (API on a real port, workers, PostgreSQL,
// Redis, an SMTP sink), run as a child process without a terminal: progress comes as plain
// lines on stderr, the final account on stdout.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ADMIN_TOKEN, type TestContext } from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { closedPort, listen, runCli, spawnCli } from '../helpers/cli.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let ctx: TestContext;
let sink: SmtpSink;
let server: { url: string; close(): Promise<void> };
let admin: Record<string, string>;

beforeAll(async () => {
  sink = await startSmtpSink();
  // A send rate low enough that a campaign of a few hundred takes seconds, so it can be watched,
  // paused and resumed while it runs.
  ctx = await createTestContext({ SMTP_URL: sink.url, SEND_RATE: '50', WORKER_CONCURRENCY: '4' });
  ctx.startWorkers();
  server = await listen(ctx.app);
  admin = { BULLETIN_URL: server.url, BULLETIN_TOKEN: TEST_ADMIN_TOKEN };
});
afterAll(async () => {
  await server?.close();
  await ctx?.close();
  await sink?.close();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

const tempDirs: string[] = [];
async function csvFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bulletin-cli-'));
  tempDirs.push(dir);
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** A list with `count` confirmed subscribers and a draft campaign to it. */
async function draftCampaign(prefix: string, count: number): Promise<number> {
  const list = await fixtures.createList(ctx, `CLI ${prefix}`);
  await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, prefix, count));
  const templateId = await fixtures.createTemplate(ctx);
  return (
    await fixtures.createCampaign(ctx, { name: `CLI ${prefix}`, templateId, listIds: [list] })
  ).id;
}

describe('bulletin import', () => {
  it('streams a CSV, shows progress lines, and accounts for every row including the bad line', async () => {
    const list = await ctx.api().post('/api/v1/lists').send({ name: 'CLI import' });
    expect(list.status).toBe(201);
    const rows = Array.from({ length: 3000 }, (_, i) =>
      // Line numbers count the header as line 1: row index 1499 is line 1501.
      i === 1499 ? 'not-an-email,Broken,Nowhere' : `member${i}@import.test,Member ${i},City ${i}`,
    );
    const file = await csvFile('members.csv', `email,name,city\n${rows.join('\n')}\n`);

    const result = await runCli(
      ['import', file, '--list', String(list.body.id), '--interval', '100'],
      admin,
    );

    expect(result.code, result.stderr).toBe(0);
    // Plain lines, no terminal control sequences, ending with the complete count.
    expect(result.stderr).not.toContain('\u001b[');
    const lines = result.stderr.trim().split('\n');
    expect(lines.every((l) => /^import \d+: \d+\/\d+ rows \(\d+%\)/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^import \d+: 3000\/3000 rows \(100%\)$/);
    expect(result.stdout).toMatch(/^Import \d+ done: members\.csv into list \d+$/m);
    expect(result.stdout).toMatch(/^inserted\s+2999$/m);
    expect(result.stdout).toMatch(/^errors\s+1$/m);
    expect(result.stdout).toMatch(/^ {2}line 1501: /m);

    const { rows: members } = await ctx.db.query(
      `SELECT count(*)::int AS n FROM subscriptions WHERE list_id = $1`,
      [list.body.id],
    );
    expect(members[0].n).toBe(2999);
  });

  it('prints the problem and each field error when the API refuses the file', async () => {
    const list = await ctx.api().post('/api/v1/lists').send({ name: 'CLI import refused' });
    const file = await csvFile('no-email.csv', 'name,city\nAda,London\n');

    const result = await runCli(['import', file, '--list', String(list.body.id)], admin);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bulletin: Unprocessable content: The CSV cannot be imported/);
    expect(result.stderr).toMatch(/^ {2}body: .*email/m);
  });
});

describe('bulletin campaign', () => {
  it('status --watch follows a send with progress lines and ends with the final account', async () => {
    const id = await draftCampaign('watched', 150);
    const watch = spawnCli(
      ['campaign', 'status', String(id), '--watch', '--interval', '200'],
      admin,
    );
    // Watching starts before the send: a draft is shown as such and watched on.
    await watch.waitForStderr(
      new RegExp(`^campaign ${id}: 0/0 messages \\(0%\\) \\[draft\\]$`, 'm'),
    );
    expect((await ctx.api().post(`/api/v1/campaigns/${id}/send`)).status).toBe(200);

    const result = await watch.done;

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('\u001b[');
    expect(result.stderr).toMatch(
      new RegExp(`^campaign ${id}: \\d+/150 messages \\(\\d+%\\)`, 'm'),
    );
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^campaign ${id}: 150/150 messages \\(100%\\) \\[finished\\]$`),
    );
    expect(result.stdout).toMatch(/^status\s+finished$/m);
    expect(result.stdout).toMatch(/^sent\s+150$/m);
    for (const field of ['failed', 'bounced', 'suppressed', 'unknown', 'queued', 'sending']) {
      expect(result.stdout).toMatch(new RegExp(`^${field}\\s+0$`, 'm'));
    }
    expect(sink.messages.filter((m) => m.to.startsWith('watched'))).toHaveLength(150);
  });

  it('create, show, test, schedule and send --watch: the whole send from the terminal', async () => {
    const list = await fixtures.createList(ctx, 'CLI whole send');
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'whole', 60));
    const templateId = await fixtures.createTemplate(ctx);
    const content = await csvFile('issue.md', 'This quarter, **the office moved**.\n');
    const data = await csvFile('data.json', '{"period": "2027 Q2"}');
    const created = await runCli(
      [
        'campaign',
        'create',
        '--name',
        'Whole send',
        '--subject',
        'News {{ campaign.data.period }}',
        '--template',
        String(templateId),
        '--lists',
        String(list),
        '--content-file',
        content,
        '--from-name',
        'The Desk',
        '--from-email',
        'desk@bulletin.test',
        '--data-file',
        data,
      ],
      admin,
    );
    expect(created.code, created.stderr).toBe(0);
    const id = Number(
      /^Created campaign (\d+) "Whole send" \(draft\)\.$/m.exec(created.stdout)![1],
    );

    const shown = await runCli(['campaign', 'show', String(id)], admin);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^subject\s+News \{\{ campaign\.data\.period \}\}$/m);
    expect(shown.stdout).toMatch(/^from\s+The Desk <desk@bulletin\.test>$/m);
    expect(shown.stdout).toMatch(/^preflight: ok, audience 60$/m);

    const tested = await runCli(
      ['campaign', 'test', String(id), '--to', 'proof@example.test'],
      admin,
    );
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/^Test sent to proof@example\.test \(<[^>]+>\)$/m);
    expect(sink.messages.find((m) => m.to === 'proof@example.test')?.subject).toBe(
      '[Test] News 2027 Q2',
    );

    const scheduled = await runCli(
      [
        'campaign',
        'schedule',
        String(id),
        '--at',
        '2099-03-29T09:00',
        '--timezone',
        'Europe/Zurich',
      ],
      admin,
    );
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toMatch(
      /^Campaign \d+: scheduled for 2099-03-29T09:00.* Europe\/Zurich$/m,
    );
    await ctx.api().post(`/api/v1/campaigns/${id}/cancel`).expect(200);

    // A cancelled campaign cannot be sent: the API's 409, as the CLI's error.
    const refused = await runCli(['campaign', 'send', String(id)], admin);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Cannot start a cancelled campaign/);

    const again = await runCli(
      [
        'campaign',
        'create',
        '--name',
        'Whole send, again',
        '--subject',
        'News',
        '--template',
        String(templateId),
        '--lists',
        String(list),
      ],
      admin,
    );
    const second = Number(/^Created campaign (\d+)/m.exec(again.stdout)![1]);
    const sent = await runCli(
      ['campaign', 'send', String(second), '--watch', '--interval', '200'],
      admin,
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^status\s+finished$/m);
    expect(sent.stdout).toMatch(/^sent\s+60$/m);
    // The final account: how long it took and the average it achieved.
    expect(sent.stdout).toMatch(/^duration\s+\d+ (s|min \d+ s)$/m);
    expect(sent.stdout).toMatch(/^average\s+\d+(\.\d+)? msg\/s$/m);
    const final = (await ctx.api().get(`/api/v1/campaigns/${second}`)).body;
    expect(final.rate).toBeGreaterThan(0);
  });

  it('pause, resume and cancel print the new status; an illegal move is refused', async () => {
    // Large enough that it cannot finish at SEND_RATE while the commands run.
    const id = await draftCampaign('paused', 3000);
    expect((await ctx.api().post(`/api/v1/campaigns/${id}/send`)).status).toBe(200);

    const paused = await runCli(['campaign', 'pause', String(id)], admin);
    expect(paused).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^Campaign ${id}: paused\\b`)),
    });
    expect(await fixtures.campaignStatus(ctx, id)).toBe('paused');

    const status = await runCli(['campaign', 'status', String(id)], admin);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^status\s+paused/m);
    expect(status.stdout).toMatch(/^recipients\s+\d+$/m);

    const json = await runCli(['campaign', 'status', String(id), '--json'], admin);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, status: 'paused' });

    const resumed = await runCli(['campaign', 'resume', String(id)], admin);
    expect(resumed).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^Campaign ${id}: running\\b`)),
    });

    const cancelled = await runCli(['campaign', 'cancel', String(id)], admin);
    expect(cancelled).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^Campaign ${id}: cancelled\\b`)),
    });
    expect(await fixtures.campaignStatus(ctx, id)).toBe('cancelled');

    const again = await runCli(['campaign', 'pause', String(id)], admin);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^bulletin: Illegal status change: /);
  });

  it('list shows every campaign as a table, or as JSON', async () => {
    const id = await draftCampaign('listed', 3);
    const table = await runCli(['campaign', 'list'], admin);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+PROGRESS\s+SENT\/RECIPIENTS$/m);
    expect(table.stdout).toMatch(
      new RegExp(`^\\s*${id}\\s+CLI listed\\s+draft\\s+0%\\s+0/0$`, 'm'),
    );

    const json = await runCli(['campaign', 'list', '--json'], admin);
    const campaigns = JSON.parse(json.stdout) as { id: number; status: string }[];
    expect(campaigns.find((c) => c.id === id)).toMatchObject({ status: 'draft' });
  });

  it('reports a missing campaign as the API’s problem', async () => {
    const result = await runCli(['campaign', 'status', '987654'], admin);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bulletin: Not found: /);
  });
});

describe('bulletin token', () => {
  it('creates through the API, lists and revokes; a revoked token is refused with 401', async () => {
    const created = await runCli(
      ['token', 'create', '--name', 'cli-reader', '--scopes', 'read'],
      admin,
    );
    expect(created.code, created.stderr).toBe(0);
    const secret = /bt_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
    const id = /^Token (\d+) \(read\)/.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(id).toBeDefined();

    const list = await runCli(['token', 'list'], admin);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(`^\\s*${id}\\s+cli-reader\\s+\\S+\\s+read\\s+\\S+\\s+-\\s+-$`, 'm'),
    );
    expect(list.stdout).not.toContain(secret);

    const asReader = { BULLETIN_URL: server.url, BULLETIN_TOKEN: secret! };
    expect((await runCli(['campaign', 'list'], asReader)).code).toBe(0);

    const revoked = await runCli(['token', 'revoke', id!], admin);
    expect(revoked).toMatchObject({ code: 0, stdout: `Token ${id} revoked.\n` });

    const refused = await runCli(['campaign', 'list'], asReader);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^bulletin: Authentication required: /);
    expect(refused.stderr).toContain('BULLETIN_TOKEN');
    expect(refused.stderr + refused.stdout).not.toContain(secret);
  });

  it('a wrong token gets the 401 problem, and is never printed', async () => {
    const wrong = 'bt_wrongwrongwrongwrongwrongwrongwrongwrong123';
    const result = await runCli(['queues'], { BULLETIN_URL: server.url, BULLETIN_TOKEN: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bulletin: Authentication required: /);
    expect(result.stderr + result.stdout).not.toContain(wrong);
  });
});

describe('bulletin without a service', () => {
  it('names BULLETIN_URL when the API cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['campaign', 'list'], { BULLETIN_URL: url, BULLETIN_TOKEN: 'x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the Bulletin API at ${url}`);
    expect(result.stderr).toContain('BULLETIN_URL');
  });

  it('asks for BULLETIN_TOKEN when it is not set, and refuses a bad BULLETIN_URL', async () => {
    const noToken = await runCli(['queues'], { BULLETIN_URL: server.url });
    expect(noToken.code).toBe(78);
    expect(noToken.stderr).toMatch(/BULLETIN_TOKEN is not set/);

    const badUrl = await runCli(['queues'], { BULLETIN_URL: 'ftp://x', BULLETIN_TOKEN: 'x' });
    expect(badUrl.code).toBe(78);
    expect(badUrl.stderr).toMatch(/BULLETIN_URL: must be a URL/);
  });
});

describe('bulletin queues', () => {
  it('prints the job counts of every queue as a table, or as JSON', async () => {
    const table = await runCli(['queues'], admin);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /^QUEUE\s+WAITING\s+ACTIVE\s+DELAYED\s+FAILED\s+COMPLETED\s+PAUSED$/m,
    );
    for (const name of ['imports', 'campaigns', 'deliveries', 'events']) {
      expect(table.stdout).toMatch(
        new RegExp(`^${name}\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\S+$`, 'm'),
      );
    }

    const json = await runCli(['queues', '--json'], admin);
    const queues = JSON.parse(json.stdout) as { name: string }[];
    expect(queues.map((q) => q.name)).toEqual(
      expect.arrayContaining(['imports', 'campaigns', 'deliveries', 'events']),
    );
  });
});
