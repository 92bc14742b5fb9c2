// What every console page needs: the signed-in person (or a redirect to sign-in), the frame
// with the navigation, CSRF checks on form posts, the audit trail of console actions, and the
// translation of a service's error into messages next to the fields.
import type { Request, RequestHandler, Response } from 'express';
import type { Container } from '../../container.js';
import { hasScope, type Scope } from '../../domain/scopes.js';
import { AppError, type FieldError } from '../../domain/errors.js';
import type { Principal } from '../../services/principal.js';
import { SessionsService } from '../../services/sessions.service.js';
import { sessionCookie } from '../middleware/auth.js';
import { formFields, type FormFields } from '../public/body.js';
import { html, type SafeHtml } from '../public/html.js';

/** Scripts and styles only from here; previews in frames from here; nothing from elsewhere. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const NAV = [
  ['Dashboard', '/admin'],
  ['Campaigns', '/admin/campaigns'],
  ['Lists', '/admin/lists'],
  ['Subscribers', '/admin/subscribers'],
  ['Templates', '/admin/templates'],
  ['Operations', '/admin/operations'],
] as const;

export type Section = (typeof NAV)[number][0] | 'Users';

export function who(res: Response): Principal & { user: NonNullable<Principal['user']> } {
  return res.locals.principal as Principal & { user: NonNullable<Principal['user']> };
}

export const can = (res: Response, scope: Scope) => hasScope(who(res).scopes, scope);

/** Refuses (403) a person whose roles lack the scope: the server decides, whatever the page shows. */
export function need(res: Response, scope: Scope): void {
  if (!can(res, scope))
    throw new AppError('forbidden', `Your roles do not give the "${scope}" scope`);
}

/** Only paths inside the console may be returned to after sign-in (no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' &&
    /^\/admin(\/[\w./?=&%-]*)?$/.test(value) &&
    !value.includes('//')
    ? value
    : '/admin';
}

/** Every console page below sign-in: a live session, or the sign-in page with the way back. */
export function consoleAuth(container: Container): RequestHandler {
  return async (req, res, next) => {
    res.set('Content-Security-Policy', CONSOLE_CSP).set('Cache-Control', 'no-store');
    const cookie = sessionCookie(req);
    const principal = cookie ? await container.services.sessions.authenticate(cookie) : undefined;
    if (!principal?.user) {
      const target = safeNext(req.originalUrl);
      res.redirect(
        303,
        `/admin/login${target === '/admin' ? '' : `?next=${encodeURIComponent(target)}`}`,
      );
      return;
    }
    if (principal.user.mustEnrolSecondFactor && !req.path.startsWith('/admin/account')) {
      res.redirect(303, '/admin/account');
      return;
    }
    res.locals.principal = principal;
    next();
  };
}

/** The form's fields, after its CSRF token was checked (403 page otherwise). */
export function checkedForm(req: Request, res: Response): FormFields {
  const form = formFields(req);
  const session = who(res).session!;
  if (!SessionsService.csrfMatches(form.get('_csrf'), session.csrfToken)) {
    throw new AppError('csrf', 'The form is out of date: reload the page and try again');
  }
  return form;
}

/** A multi-line field as typed: browsers send textarea line breaks as CRLF; we store LF. */
export const textOf = (form: FormFields, name: string) =>
  (form.get(name) ?? '').replace(/\r\n?/g, '\n');

export const csrfField = (res: Response) =>
  html`<input type="hidden" name="_csrf" value="${who(res).session!.csrfToken}" />`;

/** Records a console action in the audit log, as the API's routes do. */
export async function audited(
  container: Container,
  res: Response,
  action: string,
  entity: { type: string; id: string | number | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  await container.services.audit.record({ actor: who(res).actor, action, entity, detail });
}

/** The field errors of a refused action, or one error on `fallback` with its message. */
export function fieldErrors(error: unknown, fallback: string): FieldError[] {
  if (!(error instanceof AppError) || error.code === 'internal') throw error;
  return error.details.errors?.length
    ? error.details.errors
    : [{ path: fallback, message: error.message }];
}

export const errorFor = (errors: FieldError[], path: string) =>
  errors
    .filter((e) => e.path === path || e.path.startsWith(`${path}.`))
    .map((e) => e.message)
    .join('; ') || undefined;

/** A field's message, tied to the field by `aria-describedby`. */
export function fieldMessage(id: string, message: string | undefined): SafeHtml {
  return message ? html`<p class="error" id="${id}-error">${message}</p>` : html``;
}

/** aria attributes tying a control to its hint (`${id}-hint`) and its error message. */
export function describedBy(id: string, message: string | undefined, hint = false): SafeHtml {
  const ids = [...(hint ? [`${id}-hint`] : []), ...(message ? [`${id}-error`] : [])];
  return html`${message ? html` aria-invalid="true"` : ''}${ids.length ? html` aria-describedby="${ids.join(' ')}"` : ''}`;
}
