// What a campaign sends, compiled once and frozen when it starts: the template with this
// quarter's content, checked for an unsubscribe link.
import { AppError } from '../domain/errors.js';
import type { Queryable } from '../db/pool.js';
import type { CampaignRow, CampaignSnapshot } from '../db/repositories/campaigns.repository.js';
import { TemplatesRepository } from '../db/repositories/templates.repository.js';
import { compileMessage, hasUnsubscribeLink } from '../mail/render.js';

export async function buildSnapshot(
  db: Queryable,
  campaign: CampaignRow,
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
  return {
    subject: compiled.subject,
    html: compiled.html,
    text: compiled.text,
    warnings: compiled.warnings,
  };
}
