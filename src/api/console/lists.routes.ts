// The list pages (docs/console.md): every list with its counts, a form to make one, and the page
// of one list with its settings, the CSV import (uploaded by the page script to the API's import
// route, then followed live) and the export.
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import type { FieldError } from '../../domain/errors.js';
import type { ListWithCounts } from '../../services/lists.service.js';
import { parse } from '../middleware/validate.js';
import { readRawBody, type FormFields } from '../public/body.js';
import { html, type SafeHtml } from '../public/html.js';
import { listCreate, listPatch } from '../schemas/lists.schemas.js';
import { idParam } from '../schemas/common.js';
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
} from './kit.js';
import { consolePage } from './layout.js';
import { actionButton } from './widgets.js';

function listFields(values: Partial<ListWithCounts>, errors: FieldError[]): SafeHtml {
  const nameError = errorFor(errors, 'name');
  const option = (name: string, value: string, current: string | undefined, label: string) =>
    html`<option value="${value}" ${value === current ? html` selected` : ''}>${label}</option>`;
  return html`<div class="field">
      <label for="list-name">List name</label>
      ${fieldMessage('list-name', nameError)}
      <input
        id="list-name"
        name="name"
        type="text"
        required
        value="${values.name ?? ''}"
        ${describedBy('list-name', nameError)}
      />
    </div>
    <div class="field">
      <label for="list-description">Description</label>
      <input
        id="list-description"
        name="description"
        type="text"
        value="${values.description ?? ''}"
      />
    </div>
    <div class="row">
      <div class="field">
        <label for="list-optin">Opt-in</label>
        <select id="list-optin" name="optin">
          ${option('optin', 'single', values.optin, 'Single: subscribed at once')}
          ${option('optin', 'double', values.optin, 'Double: confirmed by a mailed link')}
        </select>
      </div>
      <div class="field">
        <label for="list-visibility">Visibility</label>
        <select id="list-visibility" name="visibility">
          ${option('visibility', 'private', values.visibility, 'Private')}
          ${option('visibility', 'public', values.visibility, 'Public: on the subscribe form')}
        </select>
      </div>
    </div>`;
}

const listBody = (form: FormFields) => ({
  name: form.get('name') ?? '',
  description: form.get('description') ?? '',
  optin: form.get('optin') ?? 'single',
  visibility: form.get('visibility') ?? 'private',
});

function listsPage(
  res: Response,
  lists: ListWithCounts[],
  errors: FieldError[],
  values: Partial<ListWithCounts>,
) {
  return html`<h1>Lists</h1>
    <table class="data">
      <caption class="visually-hidden">
        Lists and their subscriptions
      </caption>
      <thead>
        <tr>
          <th scope="col">List</th>
          <th scope="col">Confirmed</th>
          <th scope="col">Unconfirmed</th>
          <th scope="col">Unsubscribed</th>
          <th scope="col">Opt-in</th>
          <th scope="col">Visibility</th>
        </tr>
      </thead>
      <tbody>
        ${lists.map(
          (l) =>
            html`<tr>
              <td><a href="/admin/lists/${l.id}">${l.name}</a></td>
              <td>${l.counts.confirmed}</td>
              <td>${l.counts.unconfirmed}</td>
              <td>${l.counts.unsubscribed}</td>
              <td>${l.optin}</td>
              <td>${l.visibility}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${lists.length === 0 ? html`<p>No lists yet.</p>` : ''}
    ${
      can(res, 'subscribers:write')
        ? html`<section aria-labelledby="new-list">
            <h2 id="new-list">New list</h2>
            <form method="post" action="/admin/lists">
              ${csrfField(res)}${listFields(values, errors)}
              <button type="submit">Create list</button>
            </form>
          </section>`
        : ''
    }`;
}

function listPage(res: Response, list: ListWithCounts, errors: FieldError[] = [], notice?: string) {
  const write = can(res, 'subscribers:write');
  return html`<p class="crumbs"><a href="/admin/lists">Lists</a></p>
    <h1>${list.name}</h1>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    <p>
      ${list.counts.confirmed} confirmed · ${list.counts.unconfirmed} unconfirmed ·
      ${list.counts.unsubscribed} unsubscribed ·
      <a href="/admin/subscribers?list=${list.id}">Subscribers</a> ·
      <a href="/api/v1/lists/${list.id}/export.csv" download>Export CSV</a>
    </p>
    ${
      write
        ? html`<section aria-labelledby="import-heading">
              <h2 id="import-heading">Import subscribers</h2>
              <form
                class="row"
                data-import-form
                data-list="${list.id}"
                action="/admin/lists/${list.id}"
                method="get"
              >
                <div class="field grow">
                  <label for="csv-file">CSV file</label>
                  <p class="hint" id="csv-file-hint">
                    A header row; <code>email</code> required, <code>name</code> optional, every
                    other column an attribute
                  </p>
                  <input
                    id="csv-file"
                    name="file"
                    type="file"
                    accept=".csv,text/csv"
                    required
                    aria-describedby="csv-file-hint"
                  />
                </div>
                <div class="field">
                  <label for="import-mode">Existing subscribers</label>
                  <select id="import-mode" name="mode">
                    <option value="upsert">Update them</option>
                    <option value="skip-existing">Leave them as they are</option>
                  </select>
                </div>
                <button type="submit">Import</button>
              </form>
              <div data-import-status aria-live="polite"></div>
              <noscript
                ><p>
                  The import needs JavaScript in this page; <code>npx bulletin import</code> works
                  without.
                </p></noscript
              >
            </section>
            <section aria-labelledby="settings-heading">
              <h2 id="settings-heading">Settings</h2>
              <form method="post" action="/admin/lists/${list.id}">
                ${csrfField(res)}${listFields(list, errors)} <button type="submit">Save</button>
              </form>
              ${actionButton(res, `/admin/lists/${list.id}/delete`, 'Delete list', 'danger')}
            </section>`
        : ''
    }`;
}

export function consoleListsRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { lists } = container.services;
  const show = (res: Response, body: SafeHtml, title: string, status = 200) =>
    consolePage(res, { title, section: 'Lists', body }, status);

  router.get('/admin/lists', async (_req, res) => {
    show(res, listsPage(res, await lists.page(undefined, 1000), [], {}), 'Lists');
  });
  router.post('/admin/lists', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    need(res, 'subscribers:write');
    const body = listBody(form);
    try {
      const created = await lists.create(parse(listCreate, body));
      await audited(
        container,
        res,
        'list.create',
        { type: 'list', id: created.id },
        { console: true },
      );
      res.redirect(303, `/admin/lists/${created.id}`);
    } catch (error) {
      const errors = fieldErrors(error, 'name');
      show(
        res,
        listsPage(res, await lists.page(undefined, 1000), errors, body as Partial<ListWithCounts>),
        'Lists',
        400,
      );
    }
  });
  router.get('/admin/lists/:id', async (req, res) => {
    const list = await lists.get(parse(idParam, req.params).id);
    show(res, listPage(res, list), list.name);
  });
  router.post('/admin/lists/:id', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    need(res, 'subscribers:write');
    const { id } = parse(idParam, req.params);
    try {
      const updated = await lists.update(id, parse(listPatch, listBody(form)));
      await audited(container, res, 'list.update', { type: 'list', id }, { console: true });
      show(res, listPage(res, updated, [], 'Saved.'), updated.name);
    } catch (error) {
      show(res, listPage(res, await lists.get(id), fieldErrors(error, 'name')), 'List', 400);
    }
  });
  router.post('/admin/lists/:id/delete', readRawBody, async (req, res) => {
    checkedForm(req, res);
    need(res, 'subscribers:write');
    const { id } = parse(idParam, req.params);
    try {
      await lists.delete(id);
      await audited(container, res, 'list.delete', { type: 'list', id }, { console: true });
      res.redirect(303, '/admin/lists');
    } catch (error) {
      show(res, listPage(res, await lists.get(id), fieldErrors(error, 'name')), 'List', 409);
    }
  });
  return router;
}
