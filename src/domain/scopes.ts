export const SCOPES = [
  'read',
  'subscribers:write',
  'templates:write',
  'campaigns:write',
  'campaigns:send',
  'ops',
  'campaigns:approve',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

/**
 * The scopes an API token may hold. Approving is a person's decision (the two-person rule,
 * docs/approval.md): no token carries `campaigns:approve`, though `admin` tokens hold it in
 * name, the approve and reject routes refuse every token.
 */
export const TOKEN_SCOPES = SCOPES.filter(
  (s): s is Exclude<Scope, 'campaigns:approve'> => s !== 'campaigns:approve',
);

/** `admin` holds every scope; every other scope stands for itself only. */
export function hasScope(granted: readonly string[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}
