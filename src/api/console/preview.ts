// A message as a subscriber would see it, for the console's preview frames: the template with
// the campaign's content, personalised for a sample reader. The frame is sandboxed (no script
// runs) and the answer carries its own CSP: the message's inline styles apply, nothing loads
// but images.
import type { Response } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { html } from '../public/html.js';
import { MESSAGE_CSP } from '../public/layout.js';

export const PREVIEW_CSP = MESSAGE_CSP;

export interface PreviewRequest {
  templateId: number | null;
  content: string;
  contentType: 'markdown' | 'mjml';
  subject: string;
  name: string;
}

function note(res: Response, text: string, status = 200): void {
  res
    .status(status)
    .set('Content-Security-Policy', PREVIEW_CSP)
    .type('text/html; charset=utf-8')
    .send(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <title>Preview</title>
          </head>
          <body style="font-family:sans-serif;color:#333;padding:1rem">
            <p>${text}</p>
          </body>
        </html>`.value,
    );
}

/** Sends the rendered message with the preview CSP, or a note saying why there is none. */
async function sendPreview(res: Response, render: () => Promise<{ html: string }>) {
  try {
    const preview = await render();
    res
      .set('Content-Security-Policy', PREVIEW_CSP)
      .type('text/html; charset=utf-8')
      .send(preview.html);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const details = error.details.errors?.map((e) => e.message).join('; ');
    note(res, `No preview: ${error.message}${details ? ` (${details})` : ''}`);
  }
}

export async function messagePreview(
  container: Container,
  res: Response,
  p: PreviewRequest,
): Promise<void> {
  const templateId = p.templateId;
  if (!templateId) return note(res, 'Choose a template to see the preview.');
  await sendPreview(res, () =>
    container.services.templates.preview(templateId, {
      content: p.content,
      contentType: p.contentType,
      campaign: { subject: p.subject, name: p.name },
    }),
  );
}

/** A template's MJML as it would render, saved or not (the template editor's preview). */
export async function templatePreview(
  container: Container,
  res: Response,
  mjml: string,
): Promise<void> {
  await sendPreview(res, () => container.services.templates.previewSource(mjml, {}));
}
