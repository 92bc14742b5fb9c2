import type { Actor } from '../../domain/audit.js';
import type { Queryable } from '../pool.js';

export interface AuditRow {
  id: number;
  at: Date;
  actor_type: Actor['type'];
  actor_id: number | null;
  actor_name: string;
  action: string;
  entity_type: string;
  entity_id: string | null;
  detail: Record<string, unknown>;
}

export interface AuditEntry {
  actor: Actor;
  action: string;
  entity: { type: string; id: string | number | null };
  detail?: Record<string, unknown>;
}

export interface AuditFilter {
  /** `id` undefined: any of that type; null: the one without an id (ADMIN_TOKEN, system). */
  actor?: { type: string; id?: number | null | undefined } | undefined;
  entity?: { type: string; id?: string | undefined } | undefined;
}

export class AuditRepository {
  constructor(private readonly db: Queryable) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_log (actor_type, actor_id, actor_name, action, entity_type, entity_id,
         detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        entry.actor.type,
        entry.actor.id,
        entry.actor.name,
        entry.action,
        entry.entity.type,
        entry.entity.id === null ? null : String(entry.entity.id),
        JSON.stringify(entry.detail ?? {}),
      ],
    );
  }

  /** Newest first; `before` is the cursor (the last id of the previous page). */
  async page(filter: AuditFilter, before: number | undefined, limit: number): Promise<AuditRow[]> {
    const { rows } = await this.db.query<AuditRow>(
      `SELECT * FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1)
         AND ($2::text IS NULL OR actor_type = $2)
         AND ($3::bigint IS NULL OR actor_id = $3)
         AND ($4::boolean IS NOT TRUE OR actor_id IS NULL)
         AND ($5::text IS NULL OR entity_type = $5)
         AND ($6::text IS NULL OR entity_id = $6)
       ORDER BY id DESC LIMIT $7`,
      [
        before ?? null,
        filter.actor?.type ?? null,
        filter.actor?.id ?? null,
        filter.actor?.id === null,
        filter.entity?.type ?? null,
        filter.entity?.id ?? null,
        limit,
      ],
    );
    return rows;
  }
}
