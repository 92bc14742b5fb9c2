// Quoted-printable (RFC 2045 §6.7) for the text and HTML parts of outgoing mail, in one pass
// over the UTF-8 bytes into a preallocated buffer: nodemailer's encoder builds the encoded
// string first and then wraps it with regular expressions, which is most of its cost.
//
// Output: lines of at most 76 characters (soft breaks `=\r\n`), content line breaks (LF or
// CRLF) as CRLF, `=`, control and 8-bit bytes as `=XX`, the space or tab that would end a line
// as `=20`/`=09`. A line never starts with a bare "." or "From " (both encoded), so nothing
// depends on the SMTP client's dot-stuffing or on mbox quoting. A UTF-8 sequence is never
// split across a soft break. Every `=` in the output starts `=XX` or a soft break: a multipart
// boundary containing "=_" can never occur in an encoded body.

/** 1 for the bytes a run may copy as they are: printable ASCII but "=", plus space and tab. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b <= 0x7e; b++) PLAIN[b] = b === 0x3d ? 0 : 1;
PLAIN[0x09] = 1;

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

/** Characters on a line before a soft break is needed (76 with the break's "="). */
const LINE = 75;

const EQ = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

/** The most bytes encoding `length` input bytes can produce (3 per byte, plus soft breaks). */
export function maxEncodedLength(length: number): number {
  return length * 4 + 8;
}

function isBlank(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09;
}

/** "From " at `i`: mbox readers would quote it. */
function startsFrom(src: Uint8Array, i: number): boolean {
  return src[i + 1] === 0x72 && src[i + 2] === 0x6f && src[i + 3] === 0x6d && src[i + 4] === 0x20;
}

/**
 * Encodes `src` into `out` from `pos`; returns the new end. `out` must hold at least
 * maxEncodedLength(src.length) bytes from `pos`. A segment (`segment`) ends in a soft break
 * unless it ends with a line break, so that encoded segments can be concatenated; otherwise
 * the input ends the text and no line break is added after it.
 */
/** Writes a soft line break ("=" CRLF) at `pos`; returns the new end. */
function softBreak(out: Uint8Array, pos: number): number {
  out[pos] = EQ;
  out[pos + 1] = CR;
  out[pos + 2] = LF;
  return pos + 3;
}

export function encodeQuotedPrintableInto(
  src: Uint8Array,
  out: Uint8Array,
  pos: number,
  segment = false,
): number {
  const len = src.length;
  let col = 0;
  let i = 0;
  while (i < len) {
    const b = src[i]!;
    if (PLAIN[b] === 1 && !(col === 0 && (b === 0x2e || (b === 0x46 && startsFrom(src, i))))) {
      if (col === LINE) {
        pos = softBreak(out, pos);
        col = 0;
        continue; // re-checks "." and "From " at the start of the new line
      }
      // A run of plain bytes, up to the end of the line.
      const start = i;
      let end = i + (LINE - col);
      if (end > len) end = len;
      let c = b;
      for (;;) {
        out[pos++] = c;
        if (++i === end) break;
        c = src[i]!;
        if (PLAIN[c] !== 1) break;
      }
      col += i - start;
      const last = src[i - 1];
      if (isBlank(last)) {
        // A space or tab before a line break (or the end of the text) would be lost in transit.
        const next = src[i];
        const ending = i === len ? !segment : next === LF || (next === CR && src[i + 1] === LF);
        if (ending) {
          pos--;
          col--;
          if (col + 3 > LINE) {
            pos = softBreak(out, pos);
            col = 0;
          }
          out[pos++] = EQ;
          out[pos++] = HEX[last! >> 4]!;
          out[pos++] = HEX[last! & 15]!;
          col += 3;
        }
      }
      continue;
    }
    if (b === LF || (b === CR && src[i + 1] === LF)) {
      out[pos++] = CR;
      out[pos++] = LF;
      i += b === CR ? 2 : 1;
      col = 0;
      continue;
    }
    // Escapes; the bytes of one UTF-8 character stay on one line.
    let count = 1;
    if (b >= 0xc2 && b <= 0xf4) {
      const want = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
      while (count < want && i + count < len && (src[i + count]! & 0xc0) === 0x80) count++;
    }
    if (col + 3 * count > LINE) {
      pos = softBreak(out, pos);
      col = 0;
    }
    for (const stop = i + count; i < stop; i++) {
      const c = src[i]!;
      out[pos++] = EQ;
      out[pos++] = HEX[c >> 4]!;
      out[pos++] = HEX[c & 15]!;
    }
    col += 3 * count;
  }
  if (segment && col > 0) pos = softBreak(out, pos);
  return pos;
}

// One scratch buffer for the string API, grown as needed: encoding is synchronous.
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

function encodeString(text: string, segment: boolean): string {
  const src = Buffer.from(text, 'utf8');
  const need = maxEncodedLength(src.length);
  if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(need);
  const end = encodeQuotedPrintableInto(src, scratch, 0, segment);
  return scratch.toString('latin1', 0, end);
}

/** The quoted-printable form of UTF-8 text, line breaks as CRLF, no line over 76 characters. */
export function encodeQuotedPrintable(text: string): string {
  return encodeString(text, false);
}

/**
 * One piece of a longer text, encoded so that pieces can be concatenated: a non-empty piece
 * ends in a soft break (`=\r\n`) unless it ends with a line break. Static parts of a template
 * can be encoded once and per-recipient parts appended. A piece must not end between the CR
 * and the LF of a CRLF.
 */
export function encodeQuotedPrintableSegment(text: string): string {
  return encodeString(text, true);
}
