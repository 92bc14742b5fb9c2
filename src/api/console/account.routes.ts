// A person's own account: change the password, turn two-factor sign-in on (QR code and secret,
// then a first code, then the recovery codes, each shown once) or off.
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import type { FieldError } from '../../domain/errors.js';
import { parse } from '../middleware/validate.js';
import { readRawBody } from '../public/body.js';
import { html, type SafeHtml } from '../public/html.js';
import { passwordChangeBody } from '../schemas/accounts.schemas.js';
import { setSessionCookie } from '../routes/session.routes.js';
import {
  audited,
  checkedForm,
  csrfField,
  describedBy,
  errorFor,
  fieldErrors,
  fieldMessage,
  who,
} from './kit.js';
import { consolePage } from './layout.js';

async function accountPage(
  container: Container,
  res: Response,
  extra: { errors?: FieldError[]; notice?: SafeHtml } = {},
) {
  const user = await container.services.users.get(who(res).user.id);
  const errors = extra.errors ?? [];
  const field = (id: string, name: string, label: string, auto: string) => {
    const error = errorFor(errors, name);
    return html`<div class="field">
      <label for="${id}">${label}</label>${fieldMessage(id, error)}
      <input
        id="${id}"
        name="${name}"
        type="password"
        autocomplete="${auto}"
        required
        ${describedBy(id, error)}
      />
    </div>`;
  };
  const twoFactor = user.totp_secret
    ? html`<p>Two-factor sign-in is <strong>on</strong>.</p>
        <form method="post" action="/admin/account/totp/disable">
          ${csrfField(res)}${field('totp-off-password', 'password', 'Password', 'current-password')}
          <button type="submit" class="secondary">Turn two-factor sign-in off</button>
        </form>`
    : user.totp_pending
      ? html`<form method="post" action="/admin/account/totp/confirm">
          ${csrfField(res)}
          <div class="field">
            <label for="totp-code">Code from the app</label
            >${fieldMessage('totp-code', errorFor(errors, 'code'))}
            <input
              id="totp-code"
              name="code"
              type="text"
              inputmode="numeric"
              autocomplete="one-time-code"
              required
              ${describedBy('totp-code', errorFor(errors, 'code'))}
            />
          </div>
          <button type="submit">Turn on</button>
        </form>`
      : html`<form method="post" action="/admin/account/totp">
          ${csrfField(res)}<button type="submit">Set up two-factor sign-in</button>
        </form>`;
  consolePage(
    res,
    {
      title: 'Your account',
      section: 'Dashboard',
      body: html`<h1>Your account</h1>
        <p>${user.name} · ${user.email} · roles: ${user.roles.join(', ')}</p>
        ${who(res).user.mustEnrolSecondFactor ? html`<p class="alert" role="alert">Admins must turn on two-factor sign-in here before anything else.</p>` : ''}
        ${extra.notice ?? ''}
        <section aria-labelledby="pw-h">
          <h2 id="pw-h">Password</h2>
          <form method="post" action="/admin/account/password">
            ${csrfField(res)}
            ${field('current-password', 'currentPassword', 'Current password', 'current-password')}
            ${field('new-password', 'newPassword', 'New password', 'new-password')}
            <button type="submit">Change password</button>
          </form>
        </section>
        <section aria-labelledby="tf-h">
          <h2 id="tf-h">Two-factor sign-in</h2>
          ${twoFactor}
        </section>`,
    },
    errors.length ? 400 : 200,
  );
}

export function consoleAccountRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { users, sessions } = container.services;
  router.get('/admin/account', (_req, res) => accountPage(container, res));

  router.post('/admin/account/password', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    try {
      const body = parse(passwordChangeBody, {
        currentPassword: form.get('currentPassword') ?? '',
        newPassword: form.get('newPassword') ?? '',
      });
      const user = await users.get(who(res).user.id);
      await users.changePassword(user, body.currentPassword, body.newPassword);
      await audited(
        container,
        res,
        'session.password',
        { type: 'user', id: user.id },
        { console: true },
      );
      const renewed = await sessions.start(await users.get(user.id), {
        ip: req.ip,
        userAgent: req.get('user-agent'),
      });
      setSessionCookie(container, res, renewed.sessionId);
      res.redirect(303, '/admin/account');
    } catch (error) {
      await accountPage(container, res, { errors: fieldErrors(error, 'currentPassword') });
    }
  });
  addAccountRoutesMore(router, container);
  return router;
}

function addAccountRoutesMore(router: Router, container: Container): void {
  const { users, sessions, twoFactor } = container.services;
  router.post('/admin/account/totp', readRawBody, async (req, res) => {
    checkedForm(req, res);
    const enrolment = await twoFactor.begin(await users.get(who(res).user.id));
    const qr = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg).toString('base64')}`;
    await accountPage(container, res, {
      notice: html`<div class="notice">
        <p>
          Scan this code with your authenticator app, or type the secret, then enter the first code
          below.
        </p>
        <img src="${qr}" alt="QR code of the secret" width="200" height="200" />
        <p>Secret: <code>${enrolment.secret}</code></p>
      </div>`,
    });
  });
  router.post('/admin/account/totp/confirm', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    try {
      const codes = await twoFactor.confirm(
        await users.get(who(res).user.id),
        form.get('code') ?? '',
        sessions.clock(),
      );
      await audited(
        container,
        res,
        'session.totp.confirm',
        { type: 'user', id: who(res).user.id },
        { console: true },
      );
      await accountPage(container, res, {
        notice: html`<div class="notice" role="status">
          <p>
            Two-factor sign-in is on. Keep these recovery codes somewhere safe; each works once, and
            they are shown only now:
          </p>
          <ul class="codes">
            ${codes.map((c) => html`<li><code>${c}</code></li>`)}
          </ul>
        </div>`,
      });
    } catch (error) {
      await accountPage(container, res, { errors: fieldErrors(error, 'code') });
    }
  });
  router.post('/admin/account/totp/disable', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    const user = await users.get(who(res).user.id);
    try {
      if (container.config.require2fa && user.roles.includes('admin')) {
        return await accountPage(container, res, {
          errors: [{ path: 'password', message: 'two-factor sign-in is required for admins' }],
        });
      }
      await users.checkPassword(user, form.get('password') ?? '', 'password');
      await twoFactor.disable(user);
      await audited(
        container,
        res,
        'session.totp.disable',
        { type: 'user', id: user.id },
        { console: true },
      );
      res.redirect(303, '/admin/account');
    } catch (error) {
      await accountPage(container, res, { errors: fieldErrors(error, 'password') });
    }
  });
}
