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
import { html, type SafeHtml } from '../public/html.js';
import { apiConsent } from '../routes/subscribers.routes.js';
import { idParam } from '../schemas/common.js';
import { subscriberPatch } from '../schemas/subscribers.schemas.js';
import { validation, type FieldError } from '../../domain/errors.js';
import {
  audited,
  can,
  checkedForm,
  csrfField,
  describedBy,
  errorFor,
  fieldErrors,
  fieldMessage,
  need,
  textOf,
} from './kit.js';
import { consolePage } from './layout.js';
import { actionButton, shortDate } from './widgets.js';

const PAGE = 50;

function detail(
  res: Response,
  s: SubscriberWithLists,
  history: Awaited<ReturnType<HistoryRepository['page']>>,
  error?: string,
  edit = editOf(s),
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
    ${write ? changeForm(res, s, edit) : ''}`;
}

/** What was typed into the change form (kept when it is refused) and what was wrong with it. */
interface Edit {
  values: { email: string; name: string; attributes: string };
  errors: FieldError[];
}

const editOf = (s: SubscriberWithLists): Edit => ({
  values: { email: s.email, name: s.name ?? '', attributes: JSON.stringify(s.attributes, null, 2) },
  errors: [],
});

function changeForm(res: Response, s: SubscriberWithLists, { values, errors }: Edit) {
  const field = (id: string, path: string, label: string, input: (aria: SafeHtml) => SafeHtml) => {
    const message = errorFor(errors, path);
    return html`<div class="field">
      <label for="${id}">${label}</label
      >${fieldMessage(id, message)}${input(describedBy(id, message))}
    </div>`;
  };
  return html`<section aria-labelledby="edit-h">
    <h2 id="edit-h">Change</h2>
    <form method="post" action="/admin/subscribers/${s.id}" class="narrow">
      ${csrfField(res)}
      ${field('sub-email', 'email', 'Email address', (aria) => html`<input id="sub-email" name="email" type="email" required value="${values.email}" ${aria} />`)}
      ${field('sub-name', 'name', 'Name', (aria) => html`<input id="sub-name" name="name" type="text" value="${values.name}" ${aria} />`)}
      ${field('sub-attributes', 'attributes', 'Attributes (JSON)', (aria) => html`<textarea id="sub-attributes" name="attributes" rows="6" spellcheck="false" ${aria}>${values.attributes}</textarea>`)}
      <div class="actions"><button type="submit">Save</button></div>
    </form>
    <div class="actions">
      ${s.status !== 'blocklisted' ? actionButton(res, `/admin/subscribers/${s.id}/blocklist`, 'Blocklist', 'danger') : ''}
      <a class="button danger" href="/admin/subscribers/${s.id}/delete">Delete subscriber…</a>
    </div>
  </section>`;
}

/** Deleting erases the subscriber and their history: the page says so and asks once more. */
function deletePage(res: Response, s: SubscriberWithLists) {
  return html`<p class="crumbs"><a href="/admin/subscribers/${s.id}">${s.email}</a></p>
    <h1>Delete ${s.email}?</h1>
    <p>
      This erases the subscriber, their subscriptions, consent records and history. Their past
      deliveries stay in the campaigns' accounts without the address. It cannot be undone; to stop
      mail and keep the record, blocklist them instead.
    </p>
    <div class="actions">
      ${actionButton(res, `/admin/subscribers/${s.id}/delete`, 'Delete subscriber', 'danger')}
      <a href="/admin/subscribers/${s.id}">Keep them</a>
    </div>`;
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
  const show: Show = async (res, id, error, edit) => {
    const s = await subscribers.get(id);
    const history = await new HistoryRepository(container.pool).page(id, undefined, 200);
    consolePage(
      res,
      { title: s.email, section: 'Subscribers', body: detail(res, s, history, error, edit) },
      error || edit ? 400 : 200,
    );
  };

  router.get('/admin/subscribers/:id', (req, res) => show(res, parse(idParam, req.params).id));

  router.get('/admin/subscribers/:id/delete', async (req, res) => {
    need(res, 'subscribers:write');
    const s = await subscribers.get(parse(idParam, req.params).id);
    consolePage(res, {
      title: `Delete ${s.email}`,
      section: 'Subscribers',
      body: deletePage(res, s),
    });
  });

  addChangeRoute(router, container, show);

  const act = (
    path: string,
    action: string,
    run: (id: number, req: express.Request) => Promise<unknown>,
    done?: string,
  ) =>
    router.post(`/admin/subscribers/:id${path}`, readRawBody, async (req, res) => {
      checkedForm(req, res);
      need(res, 'subscribers:write');
      const { id } = parse(idParam, req.params);
      try {
        await run(id, req);
        await audited(container, res, action, { type: 'subscriber', id }, { console: true });
        res.redirect(303, done ?? `/admin/subscribers/${id}`);
      } catch (error) {
        await show(
          res,
          id,
          fieldErrors(error, 'status')
            .map((e) => e.message)
            .join('; '),
        );
      }
    });
  act('/blocklist', 'subscriber.update', (id, req) =>
    subscribers.update(id, { status: 'blocklisted' }, apiConsent(req)),
  );
  act('/delete', 'subscriber.delete', (id) => subscribers.delete(id), '/admin/subscribers');
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

type Show = (res: Response, id: number, error?: string, edit?: Edit) => Promise<void>;

// The change form: the API's own validator (subscriberPatch), every error on its field, and
// what was typed kept when it is refused.
function addChangeRoute(router: Router, container: Container, show: Show): void {
  const { subscribers } = container.services;
  router.post('/admin/subscribers/:id', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    need(res, 'subscribers:write');
    const { id } = parse(idParam, req.params);
    const values = {
      email: form.get('email') ?? '',
      name: form.get('name') ?? '',
      attributes: textOf(form, 'attributes'),
    };
    try {
      const patch = parse(subscriberPatch, {
        email: values.email,
        name: values.name,
        attributes: attributesOf(values.attributes),
      });
      await subscribers.update(id, patch, apiConsent(req));
      await audited(
        container,
        res,
        'subscriber.update',
        { type: 'subscriber', id },
        {
          fields: Object.keys(patch),
          console: true,
        },
      );
      res.redirect(303, `/admin/subscribers/${id}`);
    } catch (error) {
      await show(res, id, undefined, { values, errors: fieldErrors(error, 'email') });
    }
  });
}

/** The attributes field as JSON; empty means none. Not JSON: an error on the field. */
function attributesOf(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw validation(
      [{ path: 'attributes', message: `is not valid JSON (${(error as Error).message})` }],
      'The attributes are not valid JSON',
    );
  }
}
