// Errors carry a stable machine-readable code. Services throw these; one HTTP middleware maps
// each code to a status and an RFC 9457 problem document, so routes never pick status codes.

export type ErrorCode =
  | 'validation_failed'
  | 'malformed_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'duplicate_email'
  | 'illegal_transition'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'rate_limited'
  | 'approval-required'
  | 'self-approval'
  | 'csrf'
  | 'unavailable'
  | 'internal';

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly details: {
      errors?: FieldError[];
      extra?: Record<string, unknown>;
      /** Seconds for a Retry-After header (429, 503). */
      retryAfter?: number;
    } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, id: string | number) =>
  new AppError('not_found', `${what} ${id} does not exist`);

export const validation = (errors: FieldError[], message = 'The request is not valid') =>
  new AppError('validation_failed', message, { errors });
