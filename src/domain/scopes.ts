export const SCOPES = [
  'read',
  'subscribers:write',
  'templates:write',
  'campaigns:write',
  'campaigns:send',
  'ops',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

/** `admin` holds every scope; every other scope stands for itself only. */
export function hasScope(granted: readonly string[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}
