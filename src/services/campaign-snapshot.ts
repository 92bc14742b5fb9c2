// What a campaign sends, compiled once and frozen when it starts: the template with this
// quarter's content, checked for an unsubscribe link, with its links and pixel tracked when the
// campaign asks for it.
import { AppError } from '../domain/errors.js';
import type { Queryable } from '../db/pool.js';
import type { CampaignRow, CampaignSnapshot } from '../db/repositories/campaigns.repository.js';
import { TemplatesRepository } from '../db/repositories/templates.repository.js';
import { compileMessage, hasUnsubscribeLink } from '../mail/render.js';
import { addOpenPixel, trackLinks } from '../domain/tracked-links.js';

export async function buildSnapshot(
  db: Queryable,
  campaign: CampaignRow,
  /** Where the tracked links must not point (the site's own pages); null: no tracking. */
  publicUrl: string | null,
): Promise<CampaignSnapshot> {
  if (!campaign.template_id) {
    throw new AppError('unprocessable', 'The campaign has no template', {
      errors: [{ path: 'templateId', message: 'is required to send' }],
    });
  }
  if (campaign.list_ids.length === 0) {
    throw new AppError('unprocessable', 'The campaign has no lists', {
      errors: [{ path: 'listIds', message: 'is required to send' }],
    });
  }
  const template = await new TemplatesRepository(db).findById(campaign.template_id);
  if (!template)
    throw new AppError('unprocessable', 'The template no longer exists', {
      errors: [{ path: 'templateId', message: 'does not exist' }],
    });
  const compiled = await compileMessage({
    mjml: template.mjml,
    content: campaign.content,
    contentType: campaign.content_type,
    subject: campaign.subject,
  });
  if (!hasUnsubscribeLink(compiled)) {
    throw new AppError('unprocessable', 'The message has no unsubscribe link', {
      errors: [
        {
          path: 'templateId',
          message: 'the template must use {{ unsubscribe_url }} or {{ preferences_url }}',
        },
      ],
    });
  }
  // Tracking is decided here, once per campaign: the per-recipient part is only the token.
  const on = publicUrl !== null;
  const tracking = { opens: on && campaign.track_opens, clicks: on && campaign.track_clicks };
  const tracked = tracking.clicks
    ? trackLinks(compiled.html, publicUrl!)
    : { html: compiled.html, links: [] };
  return {
    subject: compiled.subject,
    html: tracking.opens ? addOpenPixel(tracked.html) : tracked.html,
    text: compiled.text,
    warnings: compiled.warnings,
    tracking,
    links: tracked.links,
  };
}
