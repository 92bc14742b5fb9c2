// The one place that turns errors into HTTP: RFC 9457 problem details with a stable code.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, type ErrorCode, type FieldError } from '../../domain/errors.js';

/** The HTTP status of each error code: the API's problems and the console's error pages. */
export const STATUS: Record<ErrorCode, number> = {
  malformed_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  duplicate_email: 409,
  illegal_transition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  'approval-required': 409,
  'self-approval': 403,
  csrf: 403,
  unavailable: 503,
  internal: 500,
};

const TITLE: Record<ErrorCode, string> = {
  malformed_request: 'Malformed request',
  validation_failed: 'Validation failed',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  conflict: 'Conflict',
  duplicate_email: 'Email already exists',
  illegal_transition: 'Illegal status change',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  unprocessable: 'Unprocessable content',
  rate_limited: 'Too many requests',
  'approval-required': 'Approval required',
  'self-approval': 'Approval by someone else required',
  csrf: 'CSRF token missing or wrong',
  unavailable: 'Service unavailable',
  internal: 'Internal server error',
};

export function sendProblem(
  res: Response,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
  extra: Record<string, unknown> = {},
): void {
  const status = STATUS[code];
  res
    .status(status)
    .type('application/problem+json')
    .json({
      // Extension members first: they can never replace the standard ones (RFC 9457 §3.1).
      ...extra,
      type: `urn:bulletin:problem:${code}`,
      title: TITLE[code],
      status,
      detail,
      code,
      ...(errors ? { errors } : {}),
    });
}

/** Errors thrown by body-parser carry a `type` and an HTTP status. */
function fromParser(error: { type?: string; status?: number; message?: string }) {
  switch (error.type) {
    case 'entity.parse.failed':
      return { code: 'malformed_request' as const, detail: 'The body is not valid JSON' };
    case 'entity.too.large':
      return { code: 'payload_too_large' as const, detail: 'The body is larger than allowed' };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return {
        code: 'unsupported_media_type' as const,
        detail: error.message ?? 'Unsupported encoding',
      };
    default:
      return error.status && error.status >= 400 && error.status < 500
        ? { code: 'malformed_request' as const, detail: error.message ?? 'Bad request' }
        : undefined;
  }
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, 'not_found', `No route for ${req.method} ${req.path}`);
};

export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  if (res.headersSent) {
    req.log?.error({ err: error }, 'error after the response started');
    res.destroy();
    return;
  }
  if (error instanceof AppError) {
    if (error.details.retryAfter !== undefined) {
      res.set('Retry-After', String(Math.max(1, Math.ceil(error.details.retryAfter))));
    }
    sendProblem(res, error.code, error.message, error.details.errors, error.details.extra);
    return;
  }
  const parsed = fromParser(error as { type?: string; status?: number });
  if (parsed) {
    sendProblem(res, parsed.code, parsed.detail);
    return;
  }
  // A value PostgreSQL cannot store as text (NUL, bytes invalid in UTF-8) that slipped past the
  // schemas is the client's mistake, not ours: 400, and the statement changed nothing.
  const pgCode = (error as { code?: unknown }).code;
  if (pgCode === '22P05' || pgCode === '22021') {
    req.log?.warn({ err: error, event: 'request_refused' }, 'text the database cannot store');
    sendProblem(res, 'malformed_request', 'A value contains characters that cannot be stored');
    return;
  }
  req.log?.error({ err: error, event: 'request_failed' }, 'unhandled error');
  sendProblem(res, 'internal', 'Something went wrong; the error was logged');
};
