// Users and tokens, for admins; and every person's own account page (password, two-factor
// sign-in). The same services as /api/v1/users, /api/v1/tokens and /api/v1/session.
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import { AppError, type FieldError } from '../../domain/errors.js';
import { ROLES } from '../../domain/roles.js';
import { TOKEN_SCOPES } from '../../domain/scopes.js';
import { presentUser } from '../account-presenters.js';
import { parse } from '../middleware/validate.js';
import { readRawBody } from '../public/body.js';
import { html, type SafeHtml } from '../public/html.js';
import { userCreate } from '../schemas/accounts.schemas.js';
import { tokenCreate } from '../schemas/tokens.schemas.js';
import { idParam } from '../schemas/common.js';
import {
  audited,
  can,
  checkedForm,
  csrfField,
  errorFor,
  fieldErrors,
  fieldMessage,
} from './kit.js';
import { consolePage } from './layout.js';
import { actionButton, shortDate } from './widgets.js';

function checkboxes(
  name: string,
  legend: string,
  values: readonly string[],
  checked: string[] = [],
) {
  return html`<fieldset>
    <legend>${legend}</legend>
    ${values.map(
      (v) =>
        html`<div class="choice">
          <input
            type="checkbox"
            id="${name}-${v}"
            name="${name}"
            value="${v}"
            ${checked.includes(v) ? html` checked` : ''}
          />
          <label for="${name}-${v}">${v}</label>
        </div>`,
    )}
  </fieldset>`;
}

type TokenRows = Awaited<ReturnType<Container['services']['tokens']['page']>>;

function tokensSection(res: Response, tokenRows: TokenRows): SafeHtml {
  return html`<section aria-labelledby="tokens-h">
    <h2 id="tokens-h">API tokens</h2>
    <table class="data">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Prefix</th>
          <th scope="col">Scopes</th>
          <th scope="col">Last used</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        ${tokenRows.map(
          (t) =>
            html`<tr>
              <td>${t.name}</td>
              <td><code>${t.prefix}…</code></td>
              <td>${t.scopes.join(', ')}</td>
              <td>${shortDate(t.last_used_at)}</td>
              <td>
                ${t.revoked_at ? 'revoked' : actionButton(res, `/admin/tokens/${t.id}/revoke`, `Revoke ${t.name}`, 'danger')}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>New token</h3>
    <form method="post" action="/admin/tokens">
      ${csrfField(res)}
      <div class="field">
        <label for="token-name">Token name</label
        ><input id="token-name" name="name" type="text" required />
      </div>
      ${checkboxes('scopes', 'Scopes', TOKEN_SCOPES, ['read'])}
      <button type="submit">Create token</button>
    </form>
  </section>`;
}

async function usersPage(
  container: Container,
  res: Response,
  extra: { errors?: FieldError[]; notice?: SafeHtml } = {},
) {
  const { users, tokens } = container.services;
  const [people, tokenRows] = await Promise.all([
    users.page(undefined, 1000),
    tokens.page(undefined, 1000),
  ]);
  const errors = extra.errors ?? [];
  consolePage(
    res,
    {
      title: 'Users and tokens',
      section: 'Users',
      body: html`<h1>Users and tokens</h1>
        ${extra.notice ? html`<div class="notice" role="status">${extra.notice}</div>` : ''}
        ${errors.length ? html`<div class="alert" role="alert">${errors.map((e) => html`<p>${e.path}: ${e.message}</p>`)}</div>` : ''}
        <section aria-labelledby="users-h">
          <h2 id="users-h">Users</h2>
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Roles</th>
                <th scope="col">Status</th>
                <th scope="col">Two-factor</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              ${people.map(presentUser).map(
                (u) =>
                  html`<tr>
                    <td>${u.name}</td>
                    <td>${u.email}</td>
                    <td>${u.roles.join(', ')}</td>
                    <td>${u.status}</td>
                    <td>${u.totp ? 'on' : 'off'}</td>
                    <td>${u.lastSignInAt ?? 'never'}</td>
                    <td>
                      ${actionButton(res, `/admin/users/${u.id}/${u.status === 'active' ? 'disable' : 'enable'}`, u.status === 'active' ? `Disable ${u.name}` : `Enable ${u.name}`)}
                      ${actionButton(res, `/admin/users/${u.id}/password-link`, `New password link for ${u.name}`, 'secondary')}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
          <h3>New user</h3>
          <form method="post" action="/admin/users">
            ${csrfField(res)}
            <div class="row">
              <div class="field">
                <label for="user-email">Email</label
                >${fieldMessage('user-email', errorFor(errors, 'email'))}<input
                  id="user-email"
                  name="email"
                  type="email"
                  required
                />
              </div>
              <div class="field">
                <label for="user-name">Name</label
                ><input id="user-name" name="name" type="text" required />
              </div>
            </div>
            ${checkboxes('roles', 'Roles', ROLES, ['editor'])}
            <button type="submit">Create user</button>
          </form>
        </section>
        ${tokensSection(res, tokenRows)}`,
    },
    errors.length ? 400 : 200,
  );
}

const adminOnly = (res: Response) => {
  if (!can(res, 'admin')) throw new AppError('forbidden', 'Users and tokens are for admins');
};

export function consoleUsersRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { users } = container.services;

  router.get('/admin/users', async (_req, res) => {
    adminOnly(res);
    await usersPage(container, res);
  });
  router.post('/admin/users', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    adminOnly(res);
    try {
      const body = parse(userCreate, {
        email: form.get('email') ?? '',
        name: form.get('name') ?? '',
        roles: form.getAll('roles'),
      });
      const { user, setPasswordUrl } = await users.create(body);
      await audited(
        container,
        res,
        'user.create',
        { type: 'user', id: user.id },
        { roles: user.roles, console: true },
      );
      await usersPage(container, res, {
        notice: html`<p>
          ${user.name} can set a password with this link (also mailed, valid 72 hours):
          <code>${setPasswordUrl ?? ''}</code>
        </p>`,
      });
    } catch (error) {
      await usersPage(container, res, { errors: fieldErrors(error, 'email') });
    }
  });
  for (const [action, change] of [
    ['disable', { status: 'disabled' }],
    ['enable', { status: 'active' }],
  ] as const) {
    router.post(`/admin/users/:id/${action}`, readRawBody, async (req, res) => {
      checkedForm(req, res);
      adminOnly(res);
      const { id } = parse(idParam, req.params);
      try {
        await users.update(id, change);
        await audited(
          container,
          res,
          'user.update',
          { type: 'user', id },
          { ...change, console: true },
        );
        res.redirect(303, '/admin/users');
      } catch (error) {
        await usersPage(container, res, { errors: fieldErrors(error, 'status') });
      }
    });
  }
  addUsersRoutesMore(router, container);
  return router;
}

function addUsersRoutesMore(router: Router, container: Container): void {
  const { users, tokens } = container.services;

  router.post('/admin/users/:id/password-link', readRawBody, async (req, res) => {
    checkedForm(req, res);
    adminOnly(res);
    const { id } = parse(idParam, req.params);
    const url = await users.resetLink(id);
    await audited(container, res, 'user.password-link', { type: 'user', id }, { console: true });
    await usersPage(container, res, {
      notice: html`<p>New set-password link (also mailed): <code>${url}</code></p>`,
    });
  });
  router.post('/admin/tokens', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    adminOnly(res);
    try {
      const body = parse(tokenCreate, {
        name: form.get('name') ?? '',
        scopes: form.getAll('scopes'),
      });
      const created = await tokens.create(body.name.trim(), body.scopes);
      await audited(
        container,
        res,
        'token.create',
        { type: 'token', id: created.id },
        { scopes: created.scopes, console: true },
      );
      await usersPage(container, res, {
        notice: html`<p>The token, shown once: <code>${created.token}</code></p>`,
      });
    } catch (error) {
      await usersPage(container, res, { errors: fieldErrors(error, 'name') });
    }
  });
  router.post('/admin/tokens/:id/revoke', readRawBody, async (req, res) => {
    checkedForm(req, res);
    adminOnly(res);
    const { id } = parse(idParam, req.params);
    await tokens.revoke(id);
    await audited(container, res, 'token.delete', { type: 'token', id }, { console: true });
    res.redirect(303, '/admin/users');
  });
}
