// The two account pages a person reaches from a link, before they can sign in (docs/accounts.md):
// the first-account setup page (/admin/setup/<token>, printed by `npm start` while no user
// exists) and the set-password page (/admin/password/<token>, mailed to a new user). Plain
// forms, no script, the public pages' CSP. A bad, used or expired link is the 404 page.
import express, { type Request, type Response } from 'express';
import type { Container } from '../../container.js';
import { AppError, type FieldError } from '../../domain/errors.js';
import { PASSWORD_MIN_LENGTH } from '../../domain/passwords.js';
import { formFields, readRawBody } from '../public/body.js';
import { errorOf, errorSummary, fieldError, invalid } from '../public/form-kit.js';
import { html, type SafeHtml } from '../public/html.js';
import { sendNotFound, sendPage } from '../public/layout.js';

const TOKEN = /^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{22}$/;

function input(
  id: string,
  label: string,
  type: string,
  errors: FieldError[],
  extra: { value?: string; autocomplete: string; hint?: string },
): SafeHtml {
  const error = errorOf(errors, id);
  return html`<div class="field">
    <label for="${id}"
      >${label}${extra.hint ? html` <span class="hint">${extra.hint}</span>` : ''}</label
    >
    ${fieldError(id, error)}
    <input
      type="${type}"
      id="${id}"
      name="${id}"
      required
      autocomplete="${extra.autocomplete}"
      value="${extra.value ?? ''}"
      ${invalid(id, error)}
    />
  </div>`;
}

const passwordFields = (errors: FieldError[]) =>
  html` ${input('password', 'Password', 'password', errors, {
    autocomplete: 'new-password',
    hint: `At least ${PASSWORD_MIN_LENGTH} characters`,
  })}
  ${input('confirm', 'Repeat the password', 'password', errors, { autocomplete: 'new-password' })}`;

function setupPage(values: { email?: string; name?: string }, errors: FieldError[] = []) {
  return html`<h1>Create the first account</h1>
    <p>This account will be an admin: it can make the others.</p>
    ${errorSummary(errors)}
    <form method="post">
      ${input('email', 'Email', 'email', errors, { value: values.email ?? '', autocomplete: 'email' })}
      ${input('name', 'Name', 'text', errors, { value: values.name ?? '', autocomplete: 'name' })}
      ${passwordFields(errors)}
      <button type="submit">Create account</button>
    </form>`;
}

function passwordPage(errors: FieldError[] = []) {
  return html`<h1>Choose your password</h1>
    ${errorSummary(errors)}
    <form method="post">
      ${passwordFields(errors)}
      <button type="submit">Save password</button>
    </form>`;
}

const donePage = (what: string) =>
  html`<h1>${what}</h1>
    <p role="status">You can now sign in with your email address and password.</p>
    <p><a href="/admin/login">Sign in</a></p>`;

/** The form's own checks before the service's: both passwords alike, long enough. */
function passwordErrors(password: string, confirm: string): FieldError[] {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return [{ path: 'password', message: `must be at least ${PASSWORD_MIN_LENGTH} characters` }];
  }
  if (password.length > 1000)
    return [{ path: 'password', message: 'must be at most 1000 characters' }];
  return password === confirm ? [] : [{ path: 'confirm', message: 'is not the same password' }];
}

const fieldErrorsOf = (error: unknown): FieldError[] | undefined =>
  error instanceof AppError && error.code !== 'not_found'
    ? (error.details.errors ?? [{ path: 'email', message: error.message }])
    : undefined;

export function accountPagesRouter(container: Container): express.Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { users } = container.services;
  router.use(['/admin/setup', '/admin/password'], (_req, res, next) => {
    res.locals.org = container.config.org;
    next();
  });
  const live = async (req: Request, res: Response, purpose: 'setup' | 'set-password') => {
    const token = String(req.params.token);
    if (TOKEN.test(token) && (await users.linkIsLive(purpose, token))) return token;
    sendNotFound(res);
    return undefined;
  };

  router.get('/admin/setup/:token', async (req, res) => {
    if (await live(req, res, 'setup'))
      sendPage(res, 200, 'Create the first account', setupPage({}));
  });
  router.post('/admin/setup/:token', readRawBody, async (req, res) => {
    const token = await live(req, res, 'setup');
    if (!token) return;
    const form = formFields(req);
    const values = { email: form.get('email') ?? '', name: (form.get('name') ?? '').trim() };
    const errors = passwordErrors(form.get('password') ?? '', form.get('confirm') ?? '');
    if (!values.name) errors.push({ path: 'name', message: 'is required' });
    if (errors.length === 0) {
      try {
        const user = await users.createFirstAdmin(token, {
          ...values,
          password: form.get('password'),
        });
        container.log.info(
          { event: 'first_admin_created', userId: user.id },
          'first admin created',
        );
        return sendPage(res, 200, 'Account created', donePage('Your account is ready'));
      } catch (error) {
        const fields = fieldErrorsOf(error);
        if (!fields) throw error;
        errors.push(...fields);
      }
    }
    sendPage(res, 400, 'Error: Create the first account', setupPage(values, errors));
  });

  router.get('/admin/password/:token', async (req, res) => {
    if (await live(req, res, 'set-password'))
      sendPage(res, 200, 'Choose your password', passwordPage());
  });
  router.post('/admin/password/:token', readRawBody, async (req, res) => {
    const token = await live(req, res, 'set-password');
    if (!token) return;
    const form = formFields(req);
    const password = form.get('password') ?? '';
    const errors = passwordErrors(password, form.get('confirm') ?? '');
    if (errors.length > 0)
      return sendPage(res, 400, 'Error: Choose your password', passwordPage(errors));
    try {
      await users.setPasswordWithLink(token, password);
    } catch (error) {
      // Used by another request meanwhile: the link no longer works, like any used link.
      if (error instanceof AppError && error.code === 'not_found') return sendNotFound(res);
      throw error;
    }
    sendPage(res, 200, 'Password saved', donePage('Your password is saved'));
  });
  return router;
}
