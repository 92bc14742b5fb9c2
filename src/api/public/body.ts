// Form bodies of the public pages: application/x-www-form-urlencoded (browsers) and
// multipart/form-data (RFC 8058 allows mail providers to send the one-click POST either way).
// The multipart reader is deliberately minimal: text fields only, files ignored, small bodies.
import express, { type Request } from 'express';

/** Larger than any form here needs; a one-click POST is about 30 bytes. */
export const FORM_LIMIT_BYTES = 64 * 1024;
const MAX_FIELDS = 200;

/** Reads any body as bytes (so both encodings reach the parsers below), with a size limit. */
export const readRawBody = express.raw({ type: () => true, limit: FORM_LIMIT_BYTES });

export class FormFields {
  constructor(private readonly entries: readonly [string, string][]) {}

  get(name: string): string | undefined {
    return this.entries.find(([key]) => key === name)?.[1];
  }

  getAll(name: string): string[] {
    return this.entries.filter(([key]) => key === name).map(([, value]) => value);
  }
}

/** The fields of the request's body, whatever of the two form encodings it uses. */
export function formFields(req: Request): FormFields {
  const body: unknown = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) return new FormFields([]);
  const type = (req.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(
      req.get('content-type') ?? '',
    );
    const value = boundary?.[1] ?? boundary?.[2];
    return new FormFields(value ? parseMultipart(body, value) : []);
  }
  if (type === '' || type.startsWith('application/x-www-form-urlencoded')) {
    return new FormFields([...new URLSearchParams(body.toString('utf8'))].slice(0, MAX_FIELDS));
  }
  return new FormFields([]);
}

/** Text fields of a multipart/form-data body (RFC 7578); parts with a filename are skipped. */
export function parseMultipart(body: Buffer, boundary: string): [string, string][] {
  const text = body.toString('utf8');
  const delimiter = `--${boundary}`;
  const fields: [string, string][] = [];
  const parts = text.split(delimiter);
  // parts[0] is the preamble; the part after the closing delimiter starts with "--".
  for (const part of parts.slice(1, MAX_FIELDS + 1)) {
    if (part.startsWith('--')) break;
    const content = part.replace(/^\r?\n/, '');
    const split = /\r?\n\r?\n/.exec(content);
    if (!split) continue;
    const headers = content.slice(0, split.index);
    const value = content.slice(split.index + split[0].length).replace(/\r?\n$/, '');
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? '';
    const name =
      /;\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? /;\s*name=([^;\s]+)/i.exec(disposition)?.[1];
    if (name === undefined || /;\s*filename\*?=/i.test(disposition)) continue;
    fields.push([name, value]);
  }
  return fields;
}

/** RFC 8058: the body a mail client's one-click unsubscribe button sends. */
export function isOneClick(fields: FormFields): boolean {
  return fields.get('List-Unsubscribe') === 'One-Click';
}
