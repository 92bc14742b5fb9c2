import { normalizeEmail } from '../domain/email.js';
import { AppError, notFound, validation } from '../domain/errors.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import {
  SubscribersRepository,
  type ConsentContext,
  type MembershipRow,
  type SubscriberFilter,
  type SubscriberRow,
  type SubscriberStatus,
  type SubscriptionStatus,
} from '../db/repositories/subscribers.repository.js';
import { ListsService } from './lists.service.js';

export type SubscriberWithLists = SubscriberRow & { memberships: MembershipRow[] };

export interface SubscriberInput {
  email: string;
  name?: string | undefined;
  attributes?: Record<string, unknown> | undefined;
  lists?: number[] | undefined;
  status?: SubscriberStatus | undefined;
  preconfirm?: boolean | undefined;
}

function requireEmail(input: string): string {
  const result = normalizeEmail(input);
  if (!result.ok) throw validation([{ path: 'email', message: result.reason }]);
  return result.email;
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export class SubscribersService {
  constructor(private readonly pool: Pool) {}

  private repo(db: Queryable = this.pool) {
    return new SubscribersRepository(db);
  }

  private async duplicate(email: string): Promise<AppError> {
    const existing = await this.repo().findByEmail(email);
    return new AppError('duplicate_email', `A subscriber with the email ${email} already exists`, {
      errors: [{ path: 'email', message: 'is already used by another subscriber' }],
      extra: existing ? { existingId: existing.id, existingUuid: existing.uuid } : {},
    });
  }

  async create(input: SubscriberInput, consent: ConsentContext): Promise<SubscriberWithLists> {
    const email = requireEmail(input.email);
    const listIds = input.lists ?? [];
    const created = await inTransaction(this.pool, async (tx) => {
      await new ListsService(new ListsRepository(tx)).requireExisting(listIds, 'lists');
      const repo = this.repo(tx);
      const row = await repo.insert({
        email,
        name: input.name?.trim() ?? '',
        attributes: input.attributes ?? {},
        status: input.status ?? 'active',
      });
      if (!row) return undefined;
      if (listIds.length > 0) {
        await repo.subscribe(row.id, listIds, input.preconfirm ? 'confirmed' : undefined, consent);
      }
      return row;
    });
    if (!created) throw await this.duplicate(email);
    return this.get(created.id);
  }

  async get(id: number): Promise<SubscriberWithLists> {
    const row = await this.repo().findById(id);
    if (!row) throw notFound('Subscriber', id);
    return (await this.withLists([row]))[0]!;
  }

  async page(filter: SubscriberFilter): Promise<SubscriberWithLists[]> {
    return this.withLists(await this.repo().page(filter));
  }

  async update(
    id: number,
    input: Partial<Omit<SubscriberInput, 'lists' | 'preconfirm'>>,
    consent: ConsentContext,
  ): Promise<SubscriberWithLists> {
    const email = input.email === undefined ? undefined : requireEmail(input.email);
    try {
      await inTransaction(this.pool, async (tx) => {
        const repo = this.repo(tx);
        const before = await repo.findById(id);
        if (!before) throw notFound('Subscriber', id);
        await repo.update(id, {
          email,
          name: input.name?.trim(),
          attributes: input.attributes,
          status: input.status,
        });
        if (input.status && input.status !== before.status) {
          await repo.recordStatusChange(id, input.status, consent);
        }
      });
    } catch (error) {
      if (isUniqueViolation(error) && email) throw await this.duplicate(email);
      throw error;
    }
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    if (!(await this.repo().delete(id))) throw notFound('Subscriber', id);
  }

  async changeLists(
    id: number,
    change: {
      add?: number[] | undefined;
      remove?: number[] | undefined;
      status?: SubscriptionStatus | undefined;
    },
    consent: ConsentContext,
  ): Promise<SubscriberWithLists> {
    const add = change.add ?? [];
    const remove = change.remove ?? [];
    const both = add.filter((listId) => remove.includes(listId));
    if (both.length > 0) {
      throw validation([{ path: 'remove', message: `lists ${both.join(', ')} are also in add` }]);
    }
    await inTransaction(this.pool, async (tx) => {
      const repo = this.repo(tx);
      // Lock the subscriber row so concurrent changes to one subscriber apply in order.
      if (!(await repo.lockById(id))) throw notFound('Subscriber', id);
      const lists = new ListsService(new ListsRepository(tx));
      await lists.requireExisting(add, 'add');
      await lists.requireExisting(remove, 'remove');
      if (add.length > 0) await repo.subscribe(id, add, change.status, consent);
      if (remove.length > 0) await repo.removeFromLists(id, remove, consent);
    });
    return this.get(id);
  }

  private async withLists(rows: SubscriberRow[]): Promise<SubscriberWithLists[]> {
    if (rows.length === 0) return [];
    const memberships = await this.repo().memberships(rows.map((r) => r.id));
    const bySubscriber = new Map<number, MembershipRow[]>();
    for (const m of memberships) {
      const list = bySubscriber.get(m.subscriber_id) ?? [];
      list.push(m);
      bySubscriber.set(m.subscriber_id, list);
    }
    return rows.map((row) => ({ ...row, memberships: bySubscriber.get(row.id) ?? [] }));
  }
}
