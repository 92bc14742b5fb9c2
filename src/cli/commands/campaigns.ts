// `bulletin campaign list|status|pause|resume|cancel`: what staff see of a send, from the API.
// `status --watch` follows a campaign until it ends (finished, cancelled or failed), staying
// through a pause, and then prints the final account.
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { CAMPAIGN_STATUSES } from '../../domain/campaign.js';
import type { ApiClient } from '../api-client.js';
import { intervalMs, campaignCommand } from '../args.js';
import { EXIT } from '../errors.js';
import { clean, fields, json, percent, rate, table } from '../format.js';
import { RateMeter, type ProgressState } from '../progress.js';
import { apiClient, io, progressOnStderr } from '../runtime.js';
import { registerSendCommands } from './campaign-send.js';
import { STAT_FIELDS, campaign as campaignSchema, page, type Campaign } from '../schemas.js';

/** The statuses a campaign does not leave by itself (a retry is a deliberate new start). */
export const TERMINAL = new Set(['finished', 'cancelled', 'failed']);

export const statusText = (c: Campaign) =>
  c.statusReason ? `${c.status} (${clean(c.statusReason)})` : c.status;

/** Deliveries with an outcome: everything drawn except what is still queued or in flight. */
const settled = (c: Campaign) => c.stats.recipients - c.stats.queued - c.stats.sending;

export function campaignAccount(c: Campaign): string {
  const s = c.stats;
  const pairs: [string, string | number][] = [
    ['status', statusText(c)],
    ['progress', `${percent(settled(c), s.recipients)} (${settled(c)} of ${s.recipients})`],
  ];
  if (c.status === 'running') {
    pairs.push(['rate', `${rate(c.rate)} msg/s`], ['eta', c.eta ?? '-']);
  }
  if (c.startedAt) pairs.push(['started', c.startedAt]);
  if (c.finishedAt) pairs.push(['finished', c.finishedAt]);
  if (c.startedAt && c.finishedAt) {
    // The final account: how long the send took and what it achieved on average.
    const seconds = (Date.parse(c.finishedAt) - Date.parse(c.startedAt)) / 1000;
    pairs.push(
      ['duration', duration(seconds)],
      ['average', `${rate(seconds > 0 ? s.sent / seconds : s.sent)} msg/s`],
    );
  }
  pairs.push(...STAT_FIELDS.map((k): [string, number] => [k, s[k]]));
  return `Campaign ${c.id} "${clean(c.name)}"\n${fields(pairs)}`;
}

export function progressState(c: Campaign, meter: RateMeter): ProgressState {
  const remaining = c.stats.queued + c.stats.sending;
  const running = c.status === 'running';
  // The API's rate is an average over the last minute, which lags at the start and after a
  // pause; the rate seen across the last polls is closer to now. The server's until then.
  const perSecond = running ? (meter.perSecond() ?? c.rate) : undefined;
  return {
    done: settled(c),
    total: c.stats.recipients,
    rate: perSecond,
    // From the rate rather than the server's clock: the two machines' clocks may disagree.
    etaSeconds: perSecond && remaining > 0 ? remaining / perSecond : undefined,
    // Running without recipients yet: the audience is being drawn into the ledger.
    note: running
      ? c.stats.recipients === 0
        ? 'drawing audience'
        : undefined
      : c.statusReason
        ? `${c.status}: ${c.statusReason}`
        : c.status,
  };
}

/** 75 → "1 min 15 s", 4000 → "1 h 6 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export async function watch(client: ApiClient, id: number, interval: number): Promise<Campaign> {
  const progress = progressOnStderr(`campaign ${id}`, 'messages', 'msg/s');
  let meter = new RateMeter();
  let lastStatus: string | undefined;
  for (;;) {
    const c = await client.get(`/api/v1/campaigns/${id}`, campaignSchema);
    if (TERMINAL.has(c.status)) {
      progress.finish({ ...progressState(c, meter), rate: undefined, etaSeconds: undefined });
      return c;
    }
    // A pause would drag the rate down long after the send resumed: start measuring afresh.
    if (c.status !== lastStatus) meter = new RateMeter();
    lastStatus = c.status;
    if (c.status === 'running') meter.add(Date.now(), settled(c));
    progress.update(progressState(c, meter));
    await sleep(interval);
  }
}

/**
 * Follows a campaign until it ends and prints the final account (or its JSON). A watch that
 * ends without the campaign finished did not see it through: exit status 1.
 */
export async function watchAndReport(
  client: ApiClient,
  id: number,
  options: { interval: number; json?: boolean | undefined },
): Promise<void> {
  const c = await watch(client, id, options.interval);
  io.out.write(options.json ? json(c) : campaignAccount(c));
  if (c.status !== 'finished') process.exitCode = EXIT.failure;
}

/** `--watch` and `--interval`, as every command that can follow a send takes them. */
export function watchOptions(command: Command): Command {
  return command
    .option('--watch', 'live progress until the campaign is finished, cancelled or failed')
    .option('--interval <ms>', 'how often to poll while watching', intervalMs, 1000);
}

export function registerCampaignCommands(program: Command): void {
  const campaign = program
    .command('campaign')
    .description('campaigns: create, test, schedule, send, progress and lifecycle');
  registerSendCommands(campaign);

  campaign
    .command('list')
    .description('list campaigns with their status and progress')
    .addOption(
      new Option('--status <status>', 'only campaigns in this status').choices(CAMPAIGN_STATUSES),
    )
    .option('--json', 'print the raw JSON')
    .action(async (options: { status?: string; json?: boolean }) => {
      const query = options.status ? `?status=${options.status}` : '';
      const campaigns = await apiClient().all(`/api/v1/campaigns${query}`, page(campaignSchema));
      if (options.json) return void io.out.write(json(campaigns));
      if (campaigns.length === 0) return void io.out.write('No campaigns.\n');
      io.out.write(
        table(
          ['ID', 'NAME', 'STATUS', 'PROGRESS', 'SENT/RECIPIENTS'],
          campaigns.map((c) => [
            c.id,
            c.name.length > 40 ? `${c.name.slice(0, 39)}…` : c.name,
            c.status,
            percent(settled(c), c.stats.recipients),
            `${c.stats.sent}/${c.stats.recipients}`,
          ]),
        ),
      );
    });

  watchOptions(
    campaignCommand(
      campaign,
      'status',
      'show stats, progress, rate and ETA; --watch follows the send until it ends',
    ),
  )
    .option('--json', 'print the raw JSON (with --watch: of the final state)')
    .action(async (id: number, options: { watch?: boolean; interval: number; json?: boolean }) => {
      const client = apiClient();
      if (options.watch) return watchAndReport(client, id, options);
      const c = await client.get(`/api/v1/campaigns/${id}`, campaignSchema);
      io.out.write(options.json ? json(c) : campaignAccount(c));
    });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    campaignCommand(campaign, action, `${action} a campaign and print its new status`).action(
      async (id: number) => {
        const c = await apiClient().post(`/api/v1/campaigns/${id}/${action}`, campaignSchema);
        io.out.write(`Campaign ${c.id}: ${statusText(c)}\n`);
      },
    );
  }
}
