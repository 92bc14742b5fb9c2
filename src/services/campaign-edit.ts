// The rules of an edit: which fields a campaign's status still lets change, what an edit
// writes (tracking's flags one by one, a slug made from the name when archived without one),
// and the archive slug's uniqueness as the API's error.
import { canEdit } from '../domain/campaign.js';
import { slugify } from '../domain/campaign-input.js';
import { AppError } from '../domain/errors.js';
import type { CampaignFields, CampaignRow } from '../db/repositories/campaigns.repository.js';

/** A new campaign: tracking defaults to TRACK_OPENS/TRACK_CLICKS, the archive to off. */
export type NewCampaign = Omit<CampaignFields, 'tracking' | 'archive' | 'archiveSlug'> & {
  tracking?: Partial<CampaignFields['tracking']> | undefined;
  archive?: boolean | undefined;
  archiveSlug?: string | null | undefined;
};
/** An edit: only the fields given change (tracking's two flags each on its own). */
export type CampaignInput = Partial<Omit<CampaignFields, 'tracking'>> & {
  tracking?: Partial<CampaignFields['tracking']> | undefined;
};

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/** The archive slug's unique index, refused as a conflict on the field. */
export function slugConflict(error: unknown): never {
  if (!isUniqueViolation(error)) throw error;
  throw new AppError('conflict', 'Another campaign is archived under this slug', {
    errors: [{ path: 'archiveSlug', message: 'is taken by another campaign' }],
  });
}

export function requireEditable(current: CampaignRow, checked: CampaignInput): void {
  const touchesContent =
    checked.tracking !== undefined ||
    checked.content !== undefined ||
    checked.contentType !== undefined ||
    checked.templateId !== undefined ||
    checked.subject !== undefined ||
    checked.listIds !== undefined;
  // The archive is about the web copy, not the mail: it may change in any status.
  const archiveOnly = Object.keys(checked).every((k) => k === 'archive' || k === 'archiveSlug');
  if (!archiveOnly && !canEdit(current.status, touchesContent ? 'content' : 'other')) {
    throw new AppError(
      'illegal_transition',
      touchesContent
        ? `A ${current.status} campaign's content, subject, template and lists can no longer change`
        : `A ${current.status} campaign can no longer be edited`,
    );
  }
}

export function editedFields(
  current: CampaignRow,
  checked: CampaignInput,
): Partial<CampaignFields> {
  const archive = checked.archive ?? current.archive;
  const slug = checked.archiveSlug === undefined ? current.archive_slug : checked.archiveSlug;
  return {
    ...checked,
    tracking: checked.tracking && {
      opens: checked.tracking.opens ?? current.track_opens,
      clicks: checked.tracking.clicks ?? current.track_clicks,
    },
    ...(archive && !slug ? { archiveSlug: slugify(checked.name ?? current.name) } : {}),
  };
}
