// The JSON of users and audit rows. A user's answer never holds the password hash, the TOTP
// secret or the recovery codes: only whether two-factor sign-in is on.
import type { AuditRow } from '../db/repositories/audit.repository.js';
import type { UserRow } from '../db/repositories/users.repository.js';
import { iso } from './presenters.js';

export const presentUser = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  roles: u.roles,
  status: u.status,
  totp: u.totp_secret !== null,
  lastSignInAt: iso(u.last_sign_in_at),
  createdAt: u.created_at.toISOString(),
  updatedAt: u.updated_at.toISOString(),
});

export const presentAudit = (a: AuditRow) => ({
  id: a.id,
  at: a.at.toISOString(),
  actor: { type: a.actor_type, id: a.actor_id, name: a.actor_name },
  action: a.action,
  entity: { type: a.entity_type, id: a.entity_id },
  detail: a.detail,
});
