// Pieces of the server-rendered forms: the error summary at the top, each field's message and
// the aria attributes that tie the two together.
import type { FieldError } from '../../domain/errors.js';
import { html, type SafeHtml } from './html.js';

export const errorOf = (errors: FieldError[], path: string) =>
  errors.find((e) => e.path === path)?.message;

export function errorSummary(errors: FieldError[]): SafeHtml {
  if (errors.length === 0) return html``;
  return html`<div class="alert" role="alert">
    <p><strong>Please correct the following:</strong></p>
    <ul>
      ${errors.map((e) => html`<li><a href="#${e.path === 'lists' ? 'lists' : e.path}">${e.message}</a></li>`)}
    </ul>
  </div>`;
}

export function fieldError(id: string, message: string | undefined): SafeHtml {
  return message ? html`<span class="error" id="${id}-error">${message}</span>` : html``;
}

/** aria attributes of an input that may be in error. */
export function invalid(id: string, message: string | undefined): SafeHtml {
  return message ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}
