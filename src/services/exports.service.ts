// Streams a list's subscribers as CSV, page by page on the subscriber id (never OFFSET, never the
// whole list in memory). Every cell a spreadsheet could run as a formula is neutralised.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { notFound } from '../domain/errors.js';
import { neutralizeFormula } from '../domain/text.js';
import type { Pool } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import { ListMembersRepository } from '../db/repositories/list-members.repository.js';

const PAGE = 5000;
const FIXED = ['email', 'name', 'status', 'subscription_status', 'created_at'];

export class ExportsService {
  constructor(private readonly pool: Pool) {}

  /** Checks the list and returns the CSV stream; a missing list fails before any byte is sent. */
  async listCsv(
    listId: number,
    subscriptionStatus?: string,
  ): Promise<{ name: string; writeTo: (out: Writable) => Promise<void> }> {
    const list = await new ListsRepository(this.pool).findById(listId);
    if (!list) throw notFound('List', listId);
    const members = new ListMembersRepository(this.pool);
    const keys = (await members.attributeKeys(listId, subscriptionStatus)).filter(
      (k) => !FIXED.includes(k.toLowerCase()),
    );

    async function* records() {
      // Attribute keys are user data too: a key can start with "=" like any value.
      yield [...FIXED, ...keys].map(neutralizeFormula);
      let after = 0;
      for (;;) {
        const page = await members.page(listId, after, PAGE, subscriptionStatus);
        for (const row of page) {
          yield [
            row.email,
            row.name,
            row.status,
            row.subscription_status,
            row.created_at.toISOString(),
            ...keys.map((k) => cell(row.attributes[k])),
          ].map(neutralizeFormula);
        }
        if (page.length < PAGE) return;
        after = page.at(-1)!.id;
      }
    }

    // pipeline() carries a database error mid-stream to the response (it is destroyed, so the
    // client sees a cut-off download rather than a file that looks complete).
    const writeTo = (out: Writable) =>
      pipeline(
        Readable.from(records()),
        // csv-stringify quotes a field holding the record delimiter (CR LF) but not one holding
        // a lone CR or LF, which every CSV reader, ours included, takes as the end of the row.
        stringify({ bom: true, record_delimiter: 'windows', quoted_match: /[\r\n]/ }),
        out,
      );
    return { name: list.name, writeTo };
  }
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
