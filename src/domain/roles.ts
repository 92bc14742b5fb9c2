// Roles are named sets of scopes (docs/accounts.md). A user holds one or more; their scopes are
// the union. Users and tokens pass the same scope checks.
import type { Scope } from './scopes.js';

const EDITOR: Scope[] = ['read', 'subscribers:write', 'templates:write', 'campaigns:write'];

export const ROLE_SCOPES = {
  viewer: ['read'],
  editor: EDITOR,
  sender: [...EDITOR, 'campaigns:send'],
  approver: ['read', 'campaigns:approve'],
  ops: ['read', 'ops'],
  admin: ['admin'],
} as const satisfies Record<string, readonly Scope[]>;

export type Role = keyof typeof ROLE_SCOPES;
export const ROLES = Object.keys(ROLE_SCOPES) as Role[];

/** The union of the roles' scopes, each once. */
export function scopesOf(roles: readonly string[]): Scope[] {
  const scopes = new Set<Scope>();
  for (const role of roles) {
    for (const scope of ROLE_SCOPES[role as Role] ?? []) scopes.add(scope);
  }
  return [...scopes];
}
