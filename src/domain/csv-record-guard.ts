// Keeps over-long records away from the CSV parser without losing the rest of the file. The
// parser cannot skip past a record longer than its limit (it stopped there, and the rest of the
// file was lost); this guard sits in front of it, holds at most one record's bytes, and replaces
// a record that grows past the limit with a one-cell marker record, then carries on with the
// next record. Line breaks inside the dropped bytes are kept, so line numbers stay true.
//
// Record boundaries are found the way CSV defines them: a quote opens a quoted field only at
// the start of a field; inside one, "" is a quote and a lone " closes it; a line break ends the
// record only outside quotes. A quote elsewhere is an ordinary character, so a stray
// `5" screen` cannot make the lines after it look quoted. A quote never closed makes the rest
// of the file one record, as the parser itself would read it.

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

export class RecordGuard {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inQuotes = false;
  /** A quote just ended a quoted field; a second one right after it is an escaped quote. */
  private quoteClosed = false;
  private atFieldStart = true;
  /** The current record grew past the limit: its bytes are dropped until it ends. */
  private skipping = false;
  /** Line breaks in the dropped bytes (CRLF once), restored after the marker. */
  private droppedBreaks = 0;
  private lastWasCr = false;
  /** A skipped record ended at a CR: the LF of its CRLF is part of the same line break. */
  private swallowLf = false;

  constructor(
    private readonly maxBytes: number,
    /** The single cell of the record that stands for an over-long one. */
    readonly marker: string,
    private readonly delimiter: number,
  ) {}

  /** The bytes of `chunk` the parser may have now: whole records, and markers. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.swallowLf) {
        this.swallowLf = false;
        if (b === LF) {
          this.lastWasCr = false;
          start = i + 1;
          continue;
        }
      }
      const wasCr = this.lastWasCr;
      this.lastWasCr = b === CR;
      if (this.skipping && (b === CR || (b === LF && !wasCr))) this.droppedBreaks++;
      let recordEnds = false;
      if (this.inQuotes) {
        if (b === QUOTE) {
          this.inQuotes = false;
          this.quoteClosed = true;
        }
      } else if (b === QUOTE && this.quoteClosed) {
        this.inQuotes = true; // "" inside a quoted field
        this.quoteClosed = false;
      } else {
        this.quoteClosed = false;
        if (b === QUOTE && this.atFieldStart) this.inQuotes = true;
        else if (b === CR || b === LF) recordEnds = true;
      }
      this.atFieldStart = recordEnds || (!this.inQuotes && b === this.delimiter);

      if (this.skipping) {
        start = i + 1;
        if (recordEnds) {
          // The marker's own line break stands for the one that ended the record.
          out.push(this.markerRecord(this.droppedBreaks - 1));
          this.skipping = false;
          this.swallowLf = b === CR;
        }
        continue;
      }
      if (recordEnds) {
        out.push(...this.pending, chunk.subarray(start, i + 1));
        this.pending = [];
        this.pendingBytes = 0;
        start = i + 1;
      } else if (this.pendingBytes + (i + 1 - start) > this.maxBytes) {
        this.droppedBreaks = countBreaks(
          Buffer.concat([...this.pending, chunk.subarray(start, i + 1)]),
        );
        this.pending = [];
        this.pendingBytes = 0;
        this.skipping = true;
        start = i + 1;
      }
    }
    if (!this.skipping && start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** What is left at the end of the file: the last record, or the marker for an over-long one. */
  end(): Buffer {
    if (this.skipping) {
      this.skipping = false;
      return this.markerRecord(this.droppedBreaks);
    }
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return rest;
  }

  private markerRecord(extraBreaks: number): Buffer {
    // Empty lines after the marker keep the line count; the parser skips them.
    return Buffer.from(`${this.marker}\n${'\n'.repeat(Math.max(0, extraBreaks))}`);
  }
}

/** Line breaks in bytes (CRLF counts once), as LineTracker counts them. */
function countBreaks(bytes: Buffer): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === LF) n++;
    else if (b === CR) {
      n++;
      if (bytes[i + 1] === LF) i++;
    }
  }
  return n;
}
