// The audit log's rules (docs/audit.md): who acted, what the action is called, and what of the
// request may be kept. Values are kept only for fields that cannot hold a secret or a
// subscriber's personal data; every other field is named, never copied.

export interface Actor {
  type: 'user' | 'token' | 'system';
  /** The user's or token's id; null for the bootstrap ADMIN_TOKEN and the system. */
  id: number | null;
  name: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, name: 'Bulletin' };

/** Fields whose values are worth keeping and safe to keep. */
const KEPT_VALUES = new Set([
  'roles',
  'scopes',
  'status',
  'listIds',
  'templateId',
  'sendAt',
  'timezone',
  'mode',
  'note',
  'reason',
  'add',
  'remove',
  'optin',
  'visibility',
  'contentType',
  'tracking',
  'archive',
]);

const MAX_VALUE_CHARS = 500;

function keptValue(value: unknown): unknown {
  const text = JSON.stringify(value);
  if (text === undefined) return undefined;
  return text.length <= MAX_VALUE_CHARS ? value : `${text.slice(0, MAX_VALUE_CHARS)}…`;
}

/** What an audit row records of a request body: the names of the fields, some values. */
export function auditDetail(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const fields = Object.keys(body).filter((k) => k !== '_csrf');
  const detail: Record<string, unknown> = {};
  if (fields.length > 0) detail.fields = fields;
  for (const field of fields) {
    if (KEPT_VALUES.has(field)) detail[field] = keptValue((body as Record<string, unknown>)[field]);
  }
  return detail;
}

const SINGULAR: Record<string, string> = {
  lists: 'list',
  subscribers: 'subscriber',
  templates: 'template',
  campaigns: 'campaign',
  tokens: 'token',
  users: 'user',
  queues: 'queue',
  imports: 'import',
  session: 'session',
};

const VERB: Record<string, string> = {
  post: 'create',
  patch: 'update',
  put: 'update',
  delete: 'delete',
};

/**
 * The action and entity of an admin route: `POST /campaigns` → campaign.create,
 * `POST /campaigns/:id/send` → campaign.send, `PUT /subscribers/:id/lists` →
 * subscriber.lists.update, `POST /queues/:name/jobs/:id/retry` → queue.job.retry.
 */
export function auditAction(
  method: string,
  routePath: string,
  params: Record<string, string>,
): { action: string; entityType: string; entityId: string | null } {
  const parts = routePath.split('/').filter(Boolean);
  const collection = parts[0] ?? '';
  const entityType = SINGULAR[collection] ?? collection;
  const rest = parts.slice(1).filter((p) => !p.startsWith(':'));
  const verb = VERB[method.toLowerCase()] ?? method.toLowerCase();
  const action =
    rest.length === 0
      ? `${entityType}.${verb}`
      : method.toLowerCase() === 'post'
        ? `${entityType}.${rest.join('.')}`
        : `${entityType}.${rest.join('.')}.${verb}`;
  const entityId =
    params.name && params.id ? `${params.name}:${params.id}` : (params.id ?? params.name ?? null);
  return { action, entityType, entityId };
}
