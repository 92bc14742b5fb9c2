// The CSV side of an import run: the streaming parser that hands records (and unreadable
// records) over in file order, the limits, and how a parser error reads for a person.
import { parse, type CsvError, type Parser } from 'csv-parse';

/** A record longer than this is a line error (RecordGuard drops it); the import goes on. */
export const MAX_RECORD_BYTES = 1_048_576;
/** The parser's own limit, a safety net past the guard's: never reached by a guarded file. */
export const PARSER_MAX_RECORD = 2 * MAX_RECORD_BYTES;

/** What the parser found, in file order: a record, or one it could not read. */
export type Parsed =
  | { kind: 'record'; cells: string[]; raw: string }
  | { kind: 'unreadable'; error: CsvError | undefined; raw: string };

/** Thrown from inside the parser to make it stop at a record it cannot continue past. */
export class StopParsing extends Error {}

export function createParser(delimiter: string, found: Parsed[]): Parser {
  const parser = parse({
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: PARSER_MAX_RECORD,
    raw: true,
    on_record: (record: unknown) => {
      const { record: cells, raw } = record as { record: string[]; raw: string };
      found.push({ kind: 'record', cells, raw });
      return null; // nothing goes through the stream: `found` keeps the order
    },
    on_skip: (error, raw) => {
      found.push({ kind: 'unreadable', error, raw: raw ?? '' });
      // Past this size the parser would keep reporting the same record character by character.
      if (error?.code === 'CSV_MAX_RECORD_SIZE') throw new StopParsing();
      return undefined;
    },
  });
  // Errors arrive through the write callbacks; without a listener they would crash the process.
  parser.on('error', () => undefined);
  parser.resume();
  return parser;
}

/** Writes one chunk (or the end) into the parser; resolves with the error it stopped on, if any. */
export function feed(parser: Parser, chunk: Buffer | undefined): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const done = (error?: Error | null) => resolve(error ?? undefined);
    if (chunk) parser.write(chunk, done);
    else parser.end(done);
  });
}

export function describeCsvError(error: CsvError | undefined): string {
  switch (error?.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed (the rest of the file was read as part of it)';
    case 'CSV_MAX_RECORD_SIZE':
      return `it is longer than ${PARSER_MAX_RECORD} bytes`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field is followed by other characters';
    default:
      return `unreadable line (${error?.code ?? 'unknown error'})`;
  }
}
