// `bulletin campaign create|show|test|schedule|send`: the whole send from a terminal, through
// the same API (and its checks) as the console and scripts.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { positiveInt, campaignCommand } from '../args.js';
import { CliError, EXIT } from '../errors.js';
import { clean, fields, json } from '../format.js';
import { apiClient, io } from '../runtime.js';
import { campaign as campaignSchema, type Campaign } from '../schemas.js';
import { campaignAccount, statusText, watchAndReport, watchOptions } from './campaigns.js';

const idList = (value: string): number[] =>
  value.split(',').map((v) => {
    const n = v.trim();
    if (!/^[1-9][0-9]{0,15}$/.test(n)) throw new InvalidArgumentError(`"${v}" is not a list id`);
    return Number(n);
  });

const preflight = z.looseObject({
  ok: z.boolean(),
  audience: z.number(),
  problems: z.array(z.string()),
  warnings: z.array(z.string()).optional(),
});
const sentTests = z.object({
  sent: z.array(z.object({ email: z.string(), messageId: z.string() })),
});

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.failure);
  }
}

async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readText(file));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`, EXIT.failure);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`${file} must hold a JSON object`, EXIT.failure);
  }
  return value as Record<string, unknown>;
}

/** What a campaign is, beyond its progress: subject, template, lists, sender, schedule. */
function campaignDetails(c: Campaign): string {
  const pairs: [string, string | number][] = [
    ['subject', clean(c.subject ?? '')],
    ['template', c.templateId ?? '-'],
    ['lists', (c.listIds ?? []).join(', ') || '-'],
    [
      'from',
      c.fromEmail ? `${clean(c.fromName ?? '')} <${clean(c.fromEmail)}>`.trim() : '(MAIL_FROM)',
    ],
  ];
  if (c.sendAt) pairs.push(['send at', `${c.sendAt} ${c.timezone ?? ''}`.trim()]);
  return fields(pairs);
}

export function registerSendCommands(campaign: Command): void {
  registerCreate(campaign);
  registerShow(campaign);
  registerTest(campaign);
  registerSchedule(campaign);
  registerSend(campaign);
}

function registerCreate(campaign: Command): void {
  campaign
    .command('create')
    .description('create a draft campaign (content from a Markdown or MJML file)')
    .requiredOption('--name <name>', 'the campaign name staff see')
    .requiredOption('--subject <subject>', 'the subject (merge tags allowed)')
    .requiredOption('--template <id>', 'template id', positiveInt)
    .requiredOption('--lists <ids>', 'comma-separated list ids', idList)
    .option('--content-file <file>', "this quarter's text (Markdown, or MJML with --content-type)")
    .addOption(
      new Option('--content-type <type>', 'how the content is written')
        .choices(['markdown', 'mjml'])
        .default('markdown'),
    )
    .option('--from-name <name>', 'sender name (default: from MAIL_FROM)')
    .option('--from-email <address>', 'sender address (default: from MAIL_FROM)')
    .option('--reply-to <address>', 'reply-to address')
    .option('--data-file <file>', 'a JSON object, campaign.data in the template')
    .option('--json', 'print the raw JSON')
    .action(
      async (options: {
        name: string;
        subject: string;
        template: number;
        lists: number[];
        contentFile?: string;
        contentType: string;
        fromName?: string;
        fromEmail?: string;
        replyTo?: string;
        dataFile?: string;
        json?: boolean;
      }) => {
        const body: Record<string, unknown> = {
          name: options.name,
          subject: options.subject,
          templateId: options.template,
          listIds: options.lists,
          ...(options.contentFile
            ? { content: await readText(options.contentFile), contentType: options.contentType }
            : {}),
          ...(options.fromName ? { fromName: options.fromName } : {}),
          ...(options.fromEmail ? { fromEmail: options.fromEmail } : {}),
          ...(options.replyTo ? { replyTo: options.replyTo } : {}),
          ...(options.dataFile ? { data: await readJsonObject(options.dataFile) } : {}),
        };
        const c = await apiClient().post('/api/v1/campaigns', campaignSchema, body);
        io.out.write(
          options.json ? json(c) : `Created campaign ${c.id} "${clean(c.name)}" (${c.status}).\n`,
        );
      },
    );
}

function registerShow(campaign: Command): void {
  campaignCommand(
    campaign,
    'show',
    'show a campaign: subject, template, lists, sender, schedule and its account',
  )
    .option('--json', 'print the raw JSON')
    .action(async (id: number, options: { json?: boolean }) => {
      const client = apiClient();
      const c = await client.get(`/api/v1/campaigns/${id}`, campaignSchema);
      if (options.json) return void io.out.write(json(c));
      const check = await client.get(`/api/v1/campaigns/${id}/preflight`, preflight);
      const lines = [
        campaignAccount(c).trimEnd(),
        campaignDetails(c).trimEnd(),
        `preflight: ${check.ok ? 'ok' : 'not ok'}, audience ${check.audience}`,
        ...check.problems.map((p) => `  problem: ${clean(p)}`),
        ...(check.warnings ?? []).map((w) => `  warning: ${clean(w)}`),
      ];
      io.out.write(`${lines.join('\n')}\n`);
    });
}

function registerTest(campaign: Command): void {
  campaignCommand(
    campaign,
    'test',
    'send the campaign now to a few addresses, subject prefixed [Test]',
  )
    .requiredOption('--to <addresses>', 'comma-separated addresses (at most 10)')
    .action(async (id: number, options: { to: string }) => {
      const emails = options.to
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const { sent } = await apiClient().post(`/api/v1/campaigns/${id}/test`, sentTests, {
        emails,
      });
      for (const s of sent)
        io.out.write(`Test sent to ${clean(s.email)} (${clean(s.messageId)})\n`);
    });
}

function registerSchedule(campaign: Command): void {
  campaignCommand(campaign, 'schedule', 'schedule the send for a date and time in a time zone')
    .requiredOption('--at <when>', 'local date and time, e.g. 2027-03-29T09:00')
    .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Zurich (default UTC)')
    .option('--json', 'print the raw JSON')
    .action(async (id: number, options: { at: string; timezone?: string; json?: boolean }) => {
      const c = await apiClient().post(`/api/v1/campaigns/${id}/schedule`, campaignSchema, {
        sendAt: options.at,
        ...(options.timezone ? { timezone: options.timezone } : {}),
      });
      io.out.write(
        options.json
          ? json(c)
          : `Campaign ${c.id}: ${c.status} for ${c.sendAt ?? options.at} ${c.timezone ?? ''}\n`.replace(
              / \n$/,
              '\n',
            ),
      );
    });
}

function registerSend(campaign: Command): void {
  watchOptions(
    campaignCommand(campaign, 'send', 'start the send now; --watch follows it until it ends'),
  )
    .option('--json', 'print the raw JSON')
    .action(async (id: number, options: { watch?: boolean; interval: number; json?: boolean }) => {
      const client = apiClient();
      const started = await client.post(`/api/v1/campaigns/${id}/send`, campaignSchema);
      if (options.watch) return watchAndReport(client, id, options);
      io.out.write(
        options.json ? json(started) : `Campaign ${started.id}: ${statusText(started)}\n`,
      );
    });
}
