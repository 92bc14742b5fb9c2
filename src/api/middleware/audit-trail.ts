// Records each successful state-changing admin request in the audit log (docs/audit.md), before
// its answer leaves: whoever gets a 2xx can find the row. The action and entity come from the
// route's own path (auditAction), the detail from the body with every possible secret left out
// (auditDetail). A failed write is logged and does not undo the action, which has happened.
import type { RequestHandler } from 'express';
import { auditAction, auditDetail } from '../../domain/audit.js';
import type { AuditService } from '../../services/audit.service.js';
import { principal } from './auth.js';

export const AUDIT_SERVICE = 'auditService';

export function auditTrail(method: string, routePath: string): RequestHandler {
  return (req, res, next) => {
    const audit = res.locals[AUDIT_SERVICE] as AuditService | undefined;
    if (!audit) return next();
    let answered: unknown;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      answered = body;
      return json(body);
    };
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => {
      if (res.statusCode >= 400) return end(...args);
      const { action, entityType, entityId } = auditAction(
        method,
        routePath,
        req.params as Record<string, string>,
      );
      const createdId =
        answered && typeof answered === 'object' && 'id' in answered ? answered.id : null;
      audit
        .record({
          actor: principal(res).actor,
          action,
          entity: { type: entityType, id: entityId ?? (createdId as number | null) },
          detail: auditDetail(req.body),
        })
        .catch((error: unknown) =>
          req.log.error(
            { event: 'audit_write_failed', action, err: error },
            'audit row not written',
          ),
        )
        .finally(() => end(...args));
      return res;
    }) as typeof res.end;
    next();
  };
}
