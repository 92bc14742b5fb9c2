// Free-text fields (names, descriptions) end up in mail headers and HTML. Control characters,
// CR and LF in particular, are refused at the door rather than escaped later.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

// Apostrophes before a formula character are part of the pattern: a cell that really starts
// with "'=" must gain an apostrophe too, or the importer would strip its own and turn the
// value into "=..." on the way back in.
const NEEDS_PREFIX = /^'*[=+\-@\t\r]/;

/**
 * A cell that a spreadsheet would run as a formula is prefixed with an apostrophe (OWASP's
 * advice for CSV injection). The importer strips exactly that prefix again, so an export
 * re-imports to the same values.
 */
export function neutralizeFormula(cell: string): string {
  return NEEDS_PREFIX.test(cell) ? `'${cell}` : cell;
}

export function restoreFormula(cell: string): string {
  return cell.startsWith("'") && NEEDS_PREFIX.test(cell.slice(1)) ? cell.slice(1) : cell;
}

// eslint-disable-next-line no-control-regex
const HEADER_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * Free text for a header (names, subjects, List-Id, Feedback-ID): every control character
 * (C0, DEL, C1 with NEL) and the Unicode line and paragraph separators become one space, so
 * data can never break a header line. The one rule for every header value we write.
 */
export function headerText(value: string): string {
  return value
    .replace(HEADER_BREAKING, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text safe anywhere in HTML: element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}
