// The audit log (docs/audit.md): append-only, one row per state-changing action through the API
// or the console, by a user or a token. Nothing secret is written: request bodies are reduced
// by auditDetail (field names; values only of fields that cannot hold a secret).
import type { Pool } from '../db/pool.js';
import {
  AuditRepository,
  type AuditEntry,
  type AuditFilter,
  type AuditRow,
} from '../db/repositories/audit.repository.js';

export class AuditService {
  constructor(private readonly pool: Pool) {}

  record(entry: AuditEntry): Promise<void> {
    return new AuditRepository(this.pool).append(entry);
  }

  page(filter: AuditFilter, after: number | undefined, limit: number): Promise<AuditRow[]> {
    return new AuditRepository(this.pool).page(filter, after, limit);
  }
}
