// The two-person rule (docs/approval.md). An approval holds for exactly what was approved: a
// SHA-256 over the subject, the content, the template's MJML as it was, the lists, the sender
// fields and `data`, in a canonical form (object keys sorted, lists in order). Any change to
// any of them gives another fingerprint and voids the approval.
import { createHash } from 'node:crypto';
import type { Actor } from './audit.js';

export const APPROVAL_STATUSES = ['none', 'pending', 'approved', 'rejected'] as const;
export type StoredApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type ApprovalStatus = StoredApprovalStatus | 'not-required';

export interface ApprovedContent {
  subject: string;
  content: string | null;
  contentType: string;
  templateId: number | null;
  templateMjml: string | null;
  listIds: readonly number[];
  fromName: string | null;
  fromEmail: string | null;
  replyTo: string | null;
  data: unknown;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function approvalFingerprint(content: ApprovedContent): string {
  const text = JSON.stringify(canonical({ v: 1, ...content }));
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** What the campaign's GET says: `not-required` when the rule is off and nobody asked. */
export function shownApprovalStatus(
  stored: StoredApprovalStatus,
  required: boolean,
): ApprovalStatus {
  return stored === 'none' && !required ? 'not-required' : stored;
}

/** The approver may be neither the requester nor the last editor (docs/approval.md). */
export function isSelfApproval(
  approver: Actor,
  requestedBy: Actor | null,
  lastEditedBy: Actor | null,
): boolean {
  const same = (other: Actor | null) =>
    other !== null && other.type === approver.type && other.id === approver.id;
  return same(requestedBy) || same(lastEditedBy);
}
