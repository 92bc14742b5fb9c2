// What each admin route needs: the table the scope tests check the served routes against.
import type { Scope } from '../../src/domain/scopes.js';

/** Route → the scopes that open it (`admin` opens everything). */
export const NEEDS: Record<string, Scope[]> = {
  'GET /lists': ['read'],
  'POST /lists': ['subscribers:write'],
  'GET /lists/:id': ['read'],
  'PATCH /lists/:id': ['subscribers:write'],
  'DELETE /lists/:id': ['subscribers:write'],
  'POST /lists/:id/imports': ['subscribers:write'],
  'GET /imports/:id': ['read'],
  'GET /lists/:id/export.csv': ['read'],
  'GET /subscribers': ['read'],
  'POST /subscribers': ['subscribers:write'],
  'GET /subscribers/:id': ['read'],
  'PATCH /subscribers/:id': ['subscribers:write'],
  'DELETE /subscribers/:id': ['subscribers:write'],
  'PUT /subscribers/:id/lists': ['subscribers:write'],
  'GET /subscribers/:id/events': ['read'],
  'GET /tokens': [],
  'POST /tokens': [],
  'DELETE /tokens/:id': [],
  'GET /templates': ['read'],
  'POST /templates': ['templates:write'],
  'GET /templates/:id': ['read'],
  'PATCH /templates/:id': ['templates:write'],
  'DELETE /templates/:id': ['templates:write'],
  'POST /templates/:id/preview': ['templates:write'],
  'GET /campaigns': ['read'],
  'POST /campaigns': ['campaigns:write'],
  'GET /campaigns/:id': ['read'],
  'PATCH /campaigns/:id': ['campaigns:write'],
  'DELETE /campaigns/:id': ['campaigns:write'],
  'GET /campaigns/:id/preflight': ['read'],
  'POST /campaigns/:id/test': ['campaigns:send'],
  'POST /campaigns/:id/schedule': ['campaigns:send'],
  'POST /campaigns/:id/send': ['campaigns:send'],
  'POST /campaigns/:id/pause': ['campaigns:send'],
  'POST /campaigns/:id/resume': ['campaigns:send'],
  'POST /campaigns/:id/cancel': ['campaigns:send'],
  'POST /campaigns/:id/retry': ['campaigns:send'],
  'GET /campaigns/:id/deliveries': ['read'],
  'GET /campaigns/:id/report': ['read'],
  'GET /campaigns/:id/report.csv': ['read'],
  'GET /queues': ['read', 'ops'],
  'GET /queues/:name/failed': ['read', 'ops'],
  'POST /queues/:name/jobs/:id/retry': ['ops'],
  'DELETE /queues/:name/jobs/:id': ['ops'],
  'POST /campaigns/:id/approval-request': ['campaigns:write'],
  'POST /campaigns/:id/approve': ['campaigns:approve'],
  'POST /campaigns/:id/reject': ['campaigns:approve'],
  'GET /users': [],
  'POST /users': [],
  'GET /users/:id': [],
  'PATCH /users/:id': [],
  'DELETE /users/:id': [],
  'POST /users/:id/password-link': [],
  'GET /audit': ['ops'],
};

/** Routes any signed-in principal may call (their own session); POST /session needs none. */
export const SIGNED_IN_ROUTES = [
  'GET /session',
  'DELETE /session',
  'POST /session/password',
  'POST /session/totp',
  'POST /session/totp/confirm',
  'POST /session/totp/disable',
];
export const OPEN_API_ROUTES = ['POST /session'];

/** Routes whose scope only people hold: every token, admin too, is refused (docs/approval.md). */
export const PEOPLE_ONLY_ROUTES = ['POST /campaigns/:id/approve', 'POST /campaigns/:id/reject'];
