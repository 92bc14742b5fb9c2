import { AppError, notFound } from '../domain/errors.js';
import type {
  ListCounts,
  ListFields,
  ListRow,
  ListsRepository,
} from '../db/repositories/lists.repository.js';

export type ListWithCounts = ListRow & { counts: ListCounts };

export class ListsService {
  constructor(private readonly lists: ListsRepository) {}

  async create(input: Partial<ListFields> & { name: string }): Promise<ListWithCounts> {
    const row = await this.lists.create({
      name: input.name,
      description: input.description ?? '',
      optin: input.optin ?? 'single',
      visibility: input.visibility ?? 'private',
    });
    return { ...row, counts: { unconfirmed: 0, confirmed: 0, unsubscribed: 0 } };
  }

  async get(id: number): Promise<ListWithCounts> {
    const row = await this.lists.findById(id);
    if (!row) throw notFound('List', id);
    return (await this.withCounts([row]))[0]!;
  }

  async page(after: number | undefined, limit: number): Promise<ListWithCounts[]> {
    return this.withCounts(await this.lists.page(after, limit));
  }

  async update(id: number, fields: Partial<ListFields>): Promise<ListWithCounts> {
    const row = await this.lists.update(id, fields);
    if (!row) throw notFound('List', id);
    return (await this.withCounts([row]))[0]!;
  }

  async delete(id: number): Promise<void> {
    const campaigns = await this.lists.activeCampaignsUsing(id);
    if (campaigns.length > 0) {
      throw new AppError(
        'conflict',
        `List ${id} is used by campaigns that are scheduled, running or paused: ${campaigns.join(', ')}`,
        { extra: { campaignIds: campaigns } },
      );
    }
    if (!(await this.lists.delete(id))) throw notFound('List', id);
  }

  /** Fails with a 422 naming every list id that does not exist. */
  async requireExisting(ids: number[], field: string): Promise<ListRow[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const rows = await this.lists.findMany(unique);
    const found = new Set(rows.map((r) => r.id));
    const errors = ids.flatMap((id, index) =>
      found.has(id) ? [] : [{ path: `${field}.${index}`, message: `list ${id} does not exist` }],
    );
    if (errors.length > 0)
      throw new AppError('unprocessable', 'Some lists do not exist', { errors });
    return rows;
  }

  private async withCounts(rows: ListRow[]): Promise<ListWithCounts[]> {
    const counts = await this.lists.counts(rows.map((r) => r.id));
    return rows.map((row) => ({
      ...row,
      counts: counts.get(row.id) ?? { unconfirmed: 0, confirmed: 0, unsubscribed: 0 },
    }));
  }
}
