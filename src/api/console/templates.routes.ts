// Templates: the list, and an MJML editor with line numbers, a live preview at desktop and phone
// widths (the page script posts the unsaved MJML to the preview route into a sandboxed frame),
// and MJML's errors listed with their line numbers, each a link to its line.
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import { AppError, type FieldError } from '../../domain/errors.js';
import { parse } from '../middleware/validate.js';
import { readRawBody } from '../public/body.js';
import { html, type SafeHtml } from '../public/html.js';
import { templateCreate, templatePatch } from '../schemas/templates.schemas.js';
import { idParam } from '../schemas/common.js';
import {
  audited,
  textOf,
  can,
  checkedForm,
  csrfField,
  describedBy,
  errorFor,
  fieldErrors,
  fieldMessage,
  need,
  who,
} from './kit.js';
import { consolePage } from './layout.js';
import { templatePreview } from './preview.js';
import { shortDate } from './widgets.js';

const STARTER = `<mjml>
  <mj-body>
    <mj-section><mj-column>
      <mj-text font-size="20px">{{ campaign.subject }}</mj-text>
      {{ content }}
      <mj-text font-size="12px"><a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Preferences</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>
`;

/** The preview frame, with the desktop and phone widths. */
function previewPane(): SafeHtml {
  return html`<div class="preview">
    <div class="toggle" role="group" aria-label="Preview width">
      <button type="button" class="secondary" data-width="600" aria-pressed="true">Desktop</button>
      <button type="button" class="secondary" data-width="375" aria-pressed="false">Phone</button>
    </div>
    <iframe
      name="template-preview"
      title="Preview of the template"
      sandbox
      tabindex="-1"
      data-preview-frame
    ></iframe>
  </div>`;
}

function editor(
  res: Response,
  action: string,
  values: { name: string; mjml: string },
  errors: FieldError[],
  warnings: string[] = [],
) {
  const nameError = errorFor(errors, 'name');
  const mjmlErrors = errors.filter((e) => e.path === 'mjml');
  const line = (message: string) => /line (\d+)/i.exec(message)?.[1];
  return html`<form method="post" action="${action}" class="editor" data-template-form>
    ${csrfField(res)}
    <div class="field">
      <label for="template-name">Template name</label>${fieldMessage('template-name', nameError)}
      <input
        id="template-name"
        name="name"
        type="text"
        required
        value="${values.name}"
        ${describedBy('template-name', nameError)}
      />
    </div>
    ${
      mjmlErrors.length
        ? html`<div class="alert" role="alert" id="mjml-error">
            <p>The MJML has errors:</p>
            <ul>
              ${mjmlErrors.map((e) => {
                const n = line(e.message);
                // "line 4: mj-text cannot…" reads "Line 4: mj-text cannot…", the number a link.
                const text = n ? e.message.replace(/^line \d+:\s*/i, '') : e.message;
                return html`<li>
                  ${n ? html`<a href="#mjml" data-line="${n}">Line ${n}</a>: ` : ''}${text}
                </li>`;
              })}
            </ul>
          </div>`
        : ''
    }
    ${
      warnings.length
        ? html`<ul class="warnings">
            ${warnings.map((w) => html`<li>${w}</li>`)}
          </ul>`
        : ''
    }
    <div class="split">
      <div class="field code-field">
        <label for="mjml">MJML</label>
        <div class="code" data-code>
          <pre class="gutter" aria-hidden="true" data-gutter></pre>
          <textarea
            id="mjml"
            name="mjml"
            rows="28"
            spellcheck="false"
            wrap="off"
            ${mjmlErrors.length ? html`aria-invalid="true" aria-describedby="mjml-error"` : ''}
          >
${values.mjml}</textarea>
        </div>
      </div>
      ${previewPane()}
    </div>
    <div class="actions">
      <button type="submit">Save</button>
      <button
        type="submit"
        class="secondary"
        formaction="/admin/templates/preview"
        formtarget="template-preview"
        data-preview-button
      >
        Preview
      </button>
    </div>
  </form>`;
}

export function consoleTemplatesRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { templates } = container.services;
  const mayWrite = (res: Response) => {
    if (!can(res, 'templates:write'))
      throw new AppError('forbidden', 'Your roles do not let you write templates');
  };
  const page = (res: Response, title: string, body: ReturnType<typeof html>, status = 200) =>
    consolePage(res, { title, section: 'Templates', body }, status);

  router.get('/admin/templates', async (_req, res) => {
    const rows = await templates.page(undefined, 1000);
    page(
      res,
      'Templates',
      html`<div class="heading-row">
          <h1>Templates</h1>
          ${can(res, 'templates:write') ? html`<a class="button" href="/admin/templates/new">New template</a>` : ''}
        </div>
        <table class="data">
          <thead>
            <tr>
              <th scope="col">Template</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (t) =>
                html`<tr>
                  <td><a href="/admin/templates/${t.id}">${t.name}</a></td>
                  <td>${shortDate(t.updated_at)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${rows.length === 0 ? html`<p>No templates yet.</p>` : ''}`,
    );
  });
  router.get('/admin/templates/new', (_req, res) => {
    mayWrite(res);
    page(
      res,
      'New template',
      html`<h1>New template</h1>
        ${editor(res, '/admin/templates/new', { name: '', mjml: STARTER }, [])}`,
    );
  });
  router.post('/admin/templates/new', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    mayWrite(res);
    const values = { name: form.get('name') ?? '', mjml: textOf(form, 'mjml') };
    try {
      const created = await templates.create(parse(templateCreate, values));
      await audited(
        container,
        res,
        'template.create',
        { type: 'template', id: created.id },
        { console: true },
      );
      res.redirect(303, `/admin/templates/${created.id}`);
    } catch (error) {
      page(
        res,
        'New template',
        html`<h1>New template</h1>
          ${editor(res, '/admin/templates/new', values, fieldErrors(error, 'mjml'))}`,
        400,
      );
    }
  });
  addTemplatesRoutesMore(router, container);
  return router;
}

function addTemplatesRoutesMore(router: Router, container: Container): void {
  const { templates } = container.services;
  const mayWrite = (res: Response) => {
    if (!can(res, 'templates:write'))
      throw new AppError('forbidden', 'Your roles do not let you write templates');
  };
  const page = (res: Response, title: string, body: ReturnType<typeof html>, status = 200) =>
    consolePage(res, { title, section: 'Templates', body }, status);

  router.post('/admin/templates/preview', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    need(res, 'read');
    await templatePreview(container, res, textOf(form, 'mjml'));
  });
  router.get('/admin/templates/:id', async (req, res) => {
    const t = await templates.get(parse(idParam, req.params).id);
    page(
      res,
      t.name,
      html`<p class="crumbs"><a href="/admin/templates">Templates</a></p>
        <h1>${t.name}</h1>
        ${editor(res, `/admin/templates/${t.id}`, t, [])}`,
    );
  });
  router.post('/admin/templates/:id', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    mayWrite(res);
    const { id } = parse(idParam, req.params);
    const values = { name: form.get('name') ?? '', mjml: textOf(form, 'mjml') };
    try {
      const saved = await templates.update(id, parse(templatePatch, values), who(res).actor);
      await audited(container, res, 'template.update', { type: 'template', id }, { console: true });
      page(
        res,
        saved.name,
        html`<p class="crumbs"><a href="/admin/templates">Templates</a></p>
          <h1>${saved.name}</h1>
          <p class="notice" role="status">Saved.</p>
          ${editor(res, `/admin/templates/${id}`, saved, [], saved.warnings)}`,
      );
    } catch (error) {
      page(
        res,
        values.name,
        html`<h1>${values.name}</h1>
          ${editor(res, `/admin/templates/${id}`, values, fieldErrors(error, 'mjml'))}`,
        400,
      );
    }
  });
}
