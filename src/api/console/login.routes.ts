// Sign-in and sign-out in the browser (docs/console.md). The form posts to the same sign-in
// service as POST /api/v1/session: one answer for every failure, throttled per address. The
// authentication code field is there for those who turned on two-factor sign-in.
import express, { type Router } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { SESSION_COOKIE, sessionCookie } from '../middleware/auth.js';
import { formFields, readRawBody } from '../public/body.js';
import { html } from '../public/html.js';
import { cookieOptions, setSessionCookie } from '../routes/session.routes.js';
import { CONSOLE_CSP, describedBy, fieldMessage, safeNext } from './kit.js';
import { barePage } from './layout.js';

interface LoginState {
  email?: string;
  next: string;
  error?: string;
  codeError?: string;
  noUser?: boolean;
}

function loginPage(state: LoginState) {
  return html`<h1>Sign in to Bulletin</h1>
    ${
      state.noUser
        ? html`<p class="notice">
            No account exists yet. Use the one-time setup link that <code>npm start</code> printed,
            or run <code>npx bulletin user create --email you@example.org --name "Your Name"</code>.
          </p>`
        : ''
    }
    ${state.error ? html`<p class="alert" role="alert" id="login-error">${state.error}</p>` : ''}
    <form method="post" action="/admin/login" class="stack">
      <input type="hidden" name="next" value="${state.next}" />
      <div class="field">
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          required
          value="${state.email ?? ''}"
          ${state.error ? html`aria-describedby="login-error"` : ''}
        />
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
        />
      </div>
      <div class="field">
        <label for="totp">Authentication code</label>
        <p class="hint" id="totp-hint">
          Only if you turned on two-factor sign-in: the code from your app, or a recovery code
        </p>
        ${fieldMessage('totp', state.codeError)}
        <input
          id="totp"
          name="totp"
          type="text"
          inputmode="numeric"
          autocomplete="one-time-code"
          maxlength="32"
          ${describedBy('totp', state.codeError, true)}
        />
      </div>
      <button type="submit">Sign in</button>
    </form>`;
}

export function loginRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { sessions, users, audit } = container.services;
  const headers: express.RequestHandler = (_req, res, next) => {
    res.set('Content-Security-Policy', CONSOLE_CSP).set('Cache-Control', 'no-store');
    next();
  };

  router.get('/admin/login', headers, async (req, res) => {
    const noUser = (await users.count()) === 0;
    barePage(res, 'Sign in', loginPage({ next: safeNext(req.query.next), noUser }));
  });

  router.post('/admin/login', headers, readRawBody, async (req, res) => {
    const form = formFields(req);
    const email = (form.get('email') ?? '').trim();
    const next = safeNext(form.get('next'));
    const totp = (form.get('totp') ?? '').trim();
    try {
      const signedIn = await sessions.signIn(
        { email, password: form.get('password') ?? '', totp: totp || undefined },
        { ip: req.ip, userAgent: req.get('user-agent') },
      );
      await audit.record({
        actor: { type: 'user', id: signedIn.user.id, name: signedIn.user.name },
        action: 'session.create',
        entity: { type: 'user', id: signedIn.user.id },
        detail: { console: true },
      });
      setSessionCookie(container, res, signedIn.sessionId);
      res.redirect(303, next);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const status = error.code === 'rate_limited' ? 429 : 401;
      if (error.details.retryAfter) res.set('Retry-After', String(error.details.retryAfter));
      const second = error.details.extra?.secondFactor === 'required';
      barePage(
        res,
        'Sign in',
        loginPage({
          email,
          next,
          ...(second ? { codeError: error.message } : { error: error.message }),
        }),
        status,
      );
    }
  });

  router.post('/admin/logout', readRawBody, async (req, res) => {
    // The cookie alone decides whose session ends; a stale form still signs out.
    const cookie = sessionCookie(req);
    const principal = cookie ? await sessions.authenticate(cookie) : undefined;
    if (principal?.session) {
      await sessions.signOut(principal.session.idHash);
      await audit.record({
        actor: principal.actor,
        action: 'session.delete',
        entity: { type: 'user', id: principal.user?.id ?? null },
      });
    }
    res.clearCookie(SESSION_COOKIE, { ...cookieOptions(container), maxAge: undefined });
    res.redirect(303, '/admin/login');
  });
  return router;
}
