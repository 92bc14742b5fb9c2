// What staff see about a campaign: live stats, progress, rate and ETA, and the preflight report.
import { AppError } from '../domain/errors.js';
import type { Pool } from '../db/pool.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import { EventsRepository } from '../db/repositories/events.repository.js';
import { unknownVariables, hasUnsubscribeLink, Personalizer } from '../mail/render.js';
import type { CompiledMessage } from '../mail/render.js';
import { sampleMergeVars } from '../mail/samples.js';
import type { CampaignsService } from './campaigns.service.js';

export interface CampaignStats {
  recipients: number;
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  bounced: number;
  suppressed: number;
  unknown: number;
  complained: number;
  unsubscribed: number;
  opened: number;
  clicked: number;
}

export interface CampaignReport {
  stats: CampaignStats;
  progress: number;
  rate: number;
  eta: string | null;
}

export class CampaignReportService {
  constructor(
    private readonly pool: Pool,
    private readonly campaigns: CampaignsService,
    private readonly publicUrl: string,
    private readonly org: { name: string; address?: string | undefined },
  ) {}

  async report(campaign: CampaignRow, now = new Date()): Promise<CampaignReport> {
    const ledger = new DeliveriesRepository(this.pool);
    const [counts, events, lastMinute] = await Promise.all([
      ledger.statusCounts(campaign.id),
      new EventsRepository(this.pool).campaignCounts(campaign.id),
      // Over the last minute whatever the status: a campaign that just finished still shows it.
      ledger.sentSince(campaign.id, new Date(now.getTime() - 60_000)),
    ]);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const stats: CampaignStats = {
      recipients: total,
      ...counts,
      complained: events.complaint ?? 0,
      unsubscribed: events.unsubscribe ?? 0,
      // With what the retention removed (docs/engagement.md) still counted.
      opened: (events.opened ?? 0) + Number(campaign.retained_counts?.['opened.unique'] ?? 0),
      clicked: (events.clicked ?? 0) + Number(campaign.retained_counts?.['clicked.unique'] ?? 0),
    };
    const remaining = counts.queued + counts.sending;
    const progress =
      total === 0 ? (campaign.status === 'finished' ? 1 : 0) : (total - remaining) / total;
    // Over the last minute, or since the start when that is more recent: ten seconds into a
    // send, dividing by sixty would show a sixth of the real rate and six times the real ETA.
    const sinceStart = campaign.started_at
      ? (now.getTime() - campaign.started_at.getTime()) / 1000
      : 60;
    // A finished send reports what it achieved on average, not a last-minute figure that
    // decays to 0 once it stops.
    const rate =
      campaign.status === 'finished' && campaign.started_at && campaign.finished_at
        ? counts.sent /
          Math.max(1, (campaign.finished_at.getTime() - campaign.started_at.getTime()) / 1000)
        : lastMinute / Math.min(60, Math.max(1, sinceStart));
    const eta =
      campaign.status === 'running' && rate > 0 && remaining > 0
        ? new Date(now.getTime() + (remaining / rate) * 1000).toISOString()
        : null;
    return {
      stats,
      progress: Math.round(progress * 10_000) / 10_000,
      rate: Math.round(rate * 100) / 100,
      eta,
    };
  }

  async preflight(campaign: CampaignRow) {
    const problems: string[] = [];
    const audience = await new DeliveriesRepository(this.pool).countAudience(campaign.id);
    if (audience === 0)
      problems.push('nobody would receive it: no confirmed, active subscriber on its lists');
    let compiled;
    try {
      compiled = await this.campaigns.buildSnapshot(campaign);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      problems.push(
        error.message +
          (error.details.errors
            ? `: ${error.details.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`
            : ''),
      );
    }
    const unknown = compiled ? unknownVariables(compiled) : [];
    if (unknown.length > 0) problems.push(`unknown merge tags render empty: ${unknown.join(', ')}`);
    const renderError = compiled ? this.sampleRender(campaign, compiled) : null;
    if (renderError) problems.push(`every message would fail: ${renderError}`);
    // Not a reason to hold the send (development), but the reader's mail client will not show
    // its unsubscribe button.
    const warnings = this.publicUrl.startsWith('https://')
      ? []
      : [
          `PUBLIC_URL (${this.publicUrl}) is not https: mail clients offer one-click unsubscribe ` +
            '(RFC 8058) only for https links',
        ];
    return {
      ok: problems.length === 0,
      renderError,
      warnings,
      audience,
      unknownMergeTags: unknown,
      missingUnsubscribeLink: compiled ? !hasUnsubscribeLink(compiled) : true,
      mjmlWarnings: compiled?.warnings ?? [],
      htmlBytes: compiled ? Buffer.byteLength(compiled.html) : 0,
      problems,
    };
  }

  /**
   * Renders the message for a sample recipient with the campaign's own name, subject and data,
   * as the workers will: a loop that runs into the render limit, or a filter that throws, fails
   * every recipient, and staff must hear it before they send. The error, or null.
   */
  private sampleRender(campaign: CampaignRow, compiled: CompiledMessage): string | null {
    const sample = sampleMergeVars(this.publicUrl, new Date(), this.org);
    try {
      new Personalizer(compiled).render({
        ...sample,
        campaign: {
          name: campaign.name,
          subject: campaign.subject,
          uuid: campaign.uuid,
          data: campaign.data,
        },
      });
      return null;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return error.details.errors?.[0]?.message ?? error.message;
    }
  }
}
