// Sign-in, who am I, sign-out, password change and two-factor enrolment (docs/accounts.md).
// POST /session is the one admin route without authentication; it sets the session cookie.
import { Router, type RequestHandler, type Response } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import type { SignedIn } from '../../services/sessions.service.js';
import { sessionUser } from '../../services/sessions.service.js';
import { presentUser } from '../account-presenters.js';
import { principal, SESSION_COOKIE } from '../middleware/auth.js';
import { parse } from '../middleware/validate.js';
import {
  passwordChangeBody,
  signInBody,
  totpConfirmBody,
  totpOffBody,
} from '../schemas/accounts.schemas.js';
import { ApiRoutes, EXACT_ROUTING } from './api-routes.js';

export function cookieOptions(container: Container) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    secure: container.config.publicUrl.startsWith('https:'),
    maxAge: container.config.sessions.maxHours * 3_600_000,
  };
}

/** Sets the session cookie of a new session. */
export function setSessionCookie(container: Container, res: Response, sessionId: string): void {
  res.cookie(SESSION_COOKIE, sessionId, cookieOptions(container));
}

function answerSignedIn(container: Container, res: Response, signedIn: SignedIn) {
  res
    .cookie(SESSION_COOKIE, signedIn.sessionId, cookieOptions(container))
    .set('Cache-Control', 'no-store')
    .json({ user: presentUser(signedIn.user), csrfToken: signedIn.csrfToken });
}

/** POST /session, before authentication: its own small JSON parser runs first. */
export function signInRouter(container: Container, json: RequestHandler): Router {
  const router = Router(EXACT_ROUTING);
  const { sessions, audit } = container.services;
  router.post('/session', json, async (req, res) => {
    const body = parse(signInBody, req.body);
    const signedIn = await sessions.signIn(body, { ip: req.ip, userAgent: req.get('user-agent') });
    await audit.record({
      actor: { type: 'user', id: signedIn.user.id, name: signedIn.user.name },
      action: 'session.create',
      entity: { type: 'user', id: signedIn.user.id },
      detail: { secondFactor: signedIn.user.totp_secret !== null },
    });
    answerSignedIn(container, res, signedIn);
  });
  return router;
}

/** The signed-in user's own row, freshly read; 403 for API tokens. */
async function me(container: Container, res: Response) {
  const { user, session } = principal(res);
  if (!user || !session) throw new AppError('forbidden', 'This route is for signed-in users');
  return { row: await container.services.users.get(user.id), session };
}

export function sessionRouter(container: Container): Router {
  const router = new ApiRoutes();
  const { sessions, users, twoFactor } = container.services;
  const signedIn = { scope: 'signed-in' } as const;

  router.get('/session', signedIn, async (_req, res) => {
    const who = principal(res);
    const user = who.user ? await users.get(who.user.id) : undefined;
    const shown = user ? sessionUser(user, container.config.require2fa) : undefined;
    res.set('Cache-Control', 'no-store').json({
      user: user ? presentUser(user) : null,
      actor: who.actor,
      scopes: who.scopes,
      ...(who.session ? { csrfToken: who.session.csrfToken } : {}),
      ...(shown?.mustEnrolSecondFactor ? { secondFactorRequired: true } : {}),
    });
  });

  router.delete('/session', signedIn, async (_req, res) => {
    const { session } = await me(container, res);
    await sessions.signOut(session.idHash);
    res.clearCookie(SESSION_COOKIE, { ...cookieOptions(container), maxAge: undefined });
    res.status(204).end();
  });

  router.post('/session/password', signedIn, async (req, res) => {
    const { row } = await me(container, res);
    const body = parse(passwordChangeBody, req.body);
    await users.changePassword(row, body.currentPassword, body.newPassword);
    // Every session ended with the change, this one too: the browser gets a new one.
    const renewed = await sessions.start(await users.get(row.id), {
      ip: req.ip,
      userAgent: req.get('user-agent'),
    });
    answerSignedIn(container, res, renewed);
  });

  router.post('/session/totp', signedIn, async (_req, res) => {
    const { row } = await me(container, res);
    res.set('Cache-Control', 'no-store').json(await twoFactor.begin(row));
  });

  router.post('/session/totp/confirm', signedIn, async (req, res) => {
    const { row } = await me(container, res);
    const { code } = parse(totpConfirmBody, req.body);
    const recoveryCodes = await twoFactor.confirm(row, code, sessions.clock());
    res.set('Cache-Control', 'no-store').json({ recoveryCodes });
  });

  router.post('/session/totp/disable', signedIn, async (req, res) => {
    const { row } = await me(container, res);
    const { password } = parse(totpOffBody, req.body);
    if (container.config.require2fa && row.roles.includes('admin')) {
      throw new AppError('conflict', 'Two-factor sign-in is required for admins (REQUIRE_2FA)');
    }
    await users.checkPassword(row, password, 'password');
    await twoFactor.disable(row);
    res.status(204).end();
  });

  return router.router;
}
