// Subscribers: search by address or name, filter by list and status, page through; one
// subscriber's lists, attributes and history, and the changes staff make (name, unsubscribe
// from a list, blocklist, delete), through the services the API uses (consent source `api`).
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import { SUBSCRIBER_STATUSES } from '../../domain/subscriber-status.js';
import { decodeCursor, page } from '../../domain/cursor.js';
import { HistoryRepository } from '../../db/repositories/history.repository.js';
import type { SubscriberWithLists } from '../../services/subscribers.service.js';
import { parse } from '../middleware/validate.js';
import { readRawBody } from '../public/body.js';
import { html } from '../public/html.js';
import { apiConsent } from '../routes/subscribers.routes.js';
import { idParam } from '../schemas/common.js';
import { audited, can, checkedForm, csrfField, fieldErrors, need } from './kit.js';
import { consolePage } from './layout.js';
import { actionButton, shortDate } from './widgets.js';

const PAGE = 50;

function detail(
  res: Response,
  s: SubscriberWithLists,
  history: Awaited<ReturnType<HistoryRepository['page']>>,
  error?: string,
) {
  const write = can(res, 'subscribers:write');
  return html`<p class="crumbs"><a href="/admin/subscribers">Subscribers</a></p>
    <h1>${s.email}</h1>
    ${error ? html`<p class="alert" role="alert">${error}</p>` : ''}
    <dl class="facts">
      <dt>Name</dt>
      <dd>${s.name || '—'}</dd>
      <dt>Status</dt>
      <dd>${s.status}</dd>
      <dt>Since</dt>
      <dd>${shortDate(s.created_at)}</dd>
    </dl>
    <section aria-labelledby="lists-h">
      <h2 id="lists-h">Lists</h2>
      <ul>
        ${s.memberships.map(
          (m) =>
            html`<li>
              <a href="/admin/lists/${m.list_id}">${m.list_name}</a>: ${m.status}
              ${write && m.status !== 'unsubscribed' ? actionButton(res, `/admin/subscribers/${s.id}/unsubscribe/${m.list_id}`, `Unsubscribe from ${m.list_name}`, 'secondary') : ''}
            </li>`,
        )}
      </ul>
      ${s.memberships.length === 0 ? html`<p>On no list.</p>` : ''}
    </section>
    <section aria-labelledby="attr-h">
      <h2 id="attr-h">Attributes</h2>
      ${
        Object.keys(s.attributes).length === 0
          ? html`<p>None.</p>`
          : html`<dl class="facts">
              ${Object.entries(s.attributes).map(
                ([k, v]) =>
                  html`<dt>${k}</dt>
                    <dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`,
              )}
            </dl>`
      }
    </section>
    <section aria-labelledby="hist-h">
      <h2 id="hist-h">History</h2>
      <ol class="timeline">
        ${history.map((h) => html`<li><time datetime="${h.at.toISOString()}">${shortDate(h.at)}</time> ${h.type}${h.status ? ` (${h.status})` : ''} · ${h.source}${h.reason ? html` · ${h.reason}` : ''}</li>`)}
      </ol>
    </section>
    ${
      write
        ? html`<section aria-labelledby="edit-h">
            <h2 id="edit-h">Change</h2>
            <form method="post" action="/admin/subscribers/${s.id}" class="row">
              ${csrfField(res)}
              <div class="field grow">
                <label for="sub-name">Name</label
                ><input id="sub-name" name="name" type="text" value="${s.name ?? ''}" />
              </div>
              <button type="submit">Save</button>
            </form>
            ${s.status !== 'blocklisted' ? actionButton(res, `/admin/subscribers/${s.id}/blocklist`, 'Blocklist', 'danger') : ''}
            ${actionButton(res, `/admin/subscribers/${s.id}/delete`, 'Delete subscriber', 'danger')}
          </section>`
        : ''
    }`;
}

export function consoleSubscribersRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { subscribers, lists } = container.services;

  router.get('/admin/subscribers', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 200) : '';
    const listId = Number(req.query.list) || undefined;
    const status = SUBSCRIBER_STATUSES.find((s) => s === req.query.status);
    const after = typeof req.query.after === 'string' ? decodeCursor(req.query.after) : undefined;
    const [rows, listRows] = await Promise.all([
      subscribers.page({ after, limit: PAGE + 1, listId, status, q: q || undefined }),
      lists.page(undefined, 1000),
    ]);
    const shown = page(rows, PAGE);
    const keep = new URLSearchParams({
      ...(q ? { q } : {}),
      ...(listId ? { list: String(listId) } : {}),
      ...(status ? { status } : {}),
    });
    consolePage(res, {
      title: 'Subscribers',
      section: 'Subscribers',
      body: html`<h1>Subscribers</h1>
        <form method="get" action="/admin/subscribers" class="row" role="search">
          <div class="field grow">
            <label for="q">Search by address or name</label
            ><input id="q" name="q" type="search" value="${q}" />
          </div>
          <div class="field">
            <label for="filter-list">List</label
            ><select id="filter-list" name="list">
              <option value="">All lists</option>
              ${listRows.map((l) => html`<option value="${l.id}" ${l.id === listId ? html` selected` : ''}>${l.name}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="filter-status">Status</label
            ><select id="filter-status" name="status">
              <option value="">Any status</option>
              ${SUBSCRIBER_STATUSES.map((s) => html`<option value="${s}" ${s === status ? html` selected` : ''}>${s}</option>`)}
            </select>
          </div>
          <button type="submit">Search</button>
        </form>
        <table class="data">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Lists</th>
            </tr>
          </thead>
          <tbody>
            ${shown.data.map(
              (s) =>
                html`<tr>
                  <td><a href="/admin/subscribers/${s.id}">${s.email}</a></td>
                  <td>${s.name ?? ''}</td>
                  <td>${s.status}</td>
                  <td>${s.memberships.map((m) => `${m.list_name} (${m.status})`).join(', ')}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${shown.data.length === 0 ? html`<p>No subscriber matches.</p>` : ''}
        ${shown.next ? html`<p><a href="/admin/subscribers?${keep.toString()}${keep.size ? '&' : ''}after=${shown.next}">Next page</a></p>` : ''}`,
    });
  });

  addSubscribersRoutesMore(router, container);
  return router;
}

function addSubscribersRoutesMore(router: Router, container: Container): void {
  const { subscribers } = container.services;
  const show = async (res: Response, id: number, error?: string) => {
    const s = await subscribers.get(id);
    const history = await new HistoryRepository(container.pool).page(id, undefined, 200);
    consolePage(
      res,
      { title: s.email, section: 'Subscribers', body: detail(res, s, history, error) },
      error ? 400 : 200,
    );
  };

  router.get('/admin/subscribers/:id', (req, res) => show(res, parse(idParam, req.params).id));

  const change = (
    path: string,
    action: string,
    run: (
      id: number,
      form: ReturnType<typeof checkedForm>,
      req: express.Request,
    ) => Promise<unknown>,
    done?: string,
  ) =>
    router.post(`/admin/subscribers/:id${path}`, readRawBody, async (req, res) => {
      const form = checkedForm(req, res);
      need(res, 'subscribers:write');
      const { id } = parse(idParam, req.params);
      try {
        await run(id, form, req);
        await audited(container, res, action, { type: 'subscriber', id }, { console: true });
        res.redirect(303, done ?? `/admin/subscribers/${id}`);
      } catch (error) {
        await show(
          res,
          id,
          fieldErrors(error, 'name')
            .map((e) => e.message)
            .join('; '),
        );
      }
    });
  change('', 'subscriber.update', (id, form, req) =>
    subscribers.update(id, { name: form.get('name') ?? '' }, apiConsent(req)),
  );
  change('/blocklist', 'subscriber.update', (id, _f, req) =>
    subscribers.update(id, { status: 'blocklisted' }, apiConsent(req)),
  );
  change('/delete', 'subscriber.delete', (id) => subscribers.delete(id), '/admin/subscribers');
  router.post('/admin/subscribers/:id/unsubscribe/:list', readRawBody, async (req, res) => {
    checkedForm(req, res);
    need(res, 'subscribers:write');
    const { id } = parse(idParam, req.params);
    const listId = parse(idParam, { id: req.params.list }).id;
    await subscribers.changeLists(id, { add: [listId], status: 'unsubscribed' }, apiConsent(req));
    await audited(
      container,
      res,
      'subscriber.lists.update',
      { type: 'subscriber', id },
      { status: 'unsubscribed', console: true },
    );
    res.redirect(303, `/admin/subscribers/${id}`);
  });
}
