// What a subscriber can do from the links in their mail (docs/contract.md §4.2): unsubscribe (the
// footer link's page and the RFC 8058 one-click POST), pick lists, change their name, download
// their data, erase themselves. Every change is recorded as consent, and unsubscribes as events
// linked to the campaign the link came in, so the campaign's stats count them.
//
// Each change locks the subscriber's row first: requests for one subscriber apply one after
// another, so five identical one-click POSTs make one change, one consent record, one event.
import { randomUUID } from 'node:crypto';
import type { FieldError } from '../domain/errors.js';
import { inTransaction, type Pool, type PoolClient, type Queryable } from '../db/pool.js';
import { EventsRepository, type NewEvent } from '../db/repositories/events.repository.js';
import {
  SubscriberPagesRepository,
  type ShownList,
} from '../db/repositories/subscriber-pages.repository.js';
import {
  SubscribersRepository,
  type ConsentContext,
  type SubscriberRow,
} from '../db/repositories/subscribers.repository.js';
import type { Logger } from '../lib/logger.js';
import type { Visitor } from './public-links.service.js';
import { checkName, type RequestOrigin } from './public-subscriptions.service.js';

export type { ShownList } from '../db/repositories/subscriber-pages.repository.js';

export interface PreferencesChange {
  name: string | undefined;
  /** Uuids of the ticked lists. */
  lists: string[];
}

export type SaveOutcome =
  | { ok: true; subscribed: string[]; unsubscribed: string[]; renamed: boolean }
  | { ok: false; errors: FieldError[] };

/** 'page': the button on GET /unsubscribe; 'one-click': an RFC 8058 POST from a mail client. */
export type UnsubscribeVia = 'page' | 'one-click';

export class PublicPreferencesService {
  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** Public lists and every list the subscriber is or was on. */
  async lists(subscriberId: number, db: Queryable = this.pool): Promise<ShownList[]> {
    return new SubscriberPagesRepository(db).shownLists(subscriberId);
  }

  /** The lists a POST /unsubscribe would leave: the campaign's, or all without a campaign. */
  async unsubscribeTargets(visitor: Visitor): Promise<ShownList[]> {
    const scope = await this.scope(this.pool, visitor);
    const lists = await this.lists(visitor.subscriber.id);
    return lists.filter(
      (l) =>
        (l.status === 'confirmed' || l.status === 'unconfirmed') &&
        (scope === null || scope.includes(l.id)),
    );
  }

  /** The campaign's lists; null (every list) when the link names no campaign we still know. */
  private async scope(db: Queryable, visitor: Visitor): Promise<number[] | null> {
    if (!visitor.campaign) return null;
    const ids = await new SubscriberPagesRepository(db).campaignListIds(visitor.campaign.id);
    // A campaign whose lists were all deleted: an unsubscribe must still unsubscribe.
    return ids.length > 0 ? ids : null;
  }

  /** Unsubscribes; returns the names of the lists left now (empty when nothing changed). */
  async unsubscribe(
    visitor: Visitor,
    origin: RequestOrigin,
    via: UnsubscribeVia,
  ): Promise<string[] | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const repo = new SubscribersRepository(tx);
      const row = await repo.lockById(visitor.subscriber.id);
      if (!row) return undefined;
      const scope = await this.scope(tx, visitor);
      const changed = await repo.updateSubscriptions(
        row.id,
        scope,
        'unsubscribed',
        ['confirmed', 'unconfirmed'],
        {
          source: 'one-click',
          ip: origin.ip,
          userAgent: origin.userAgent,
          detail: { via, ...(visitor.campaignUuid ? { campaignUuid: visitor.campaignUuid } : {}) },
        },
      );
      return this.unsubscribed(tx, row, visitor, changed, { source: 'one-click', via });
    });
  }

  /** The preference page's form: name and lists. */
  async save(
    visitor: Visitor,
    change: PreferencesChange,
    origin: RequestOrigin,
  ): Promise<SaveOutcome> {
    const name = change.name === undefined ? undefined : checkName(change.name);
    if (name && 'error' in name)
      return { ok: false, errors: [{ path: 'name', message: name.error }] };
    return inTransaction(this.pool, async (tx) => {
      const repo = new SubscribersRepository(tx);
      const row = await repo.lockById(visitor.subscriber.id);
      if (!row) return { ok: true, subscribed: [], unsubscribed: [], renamed: false };
      const consent = this.consent(visitor, origin);
      const shown = await this.lists(row.id, tx);
      const ticked = new Set(change.lists);
      const add = shown.filter((l) => ticked.has(l.uuid) && l.status !== 'confirmed');
      const remove = shown.filter(
        (l) => !ticked.has(l.uuid) && (l.status === 'confirmed' || l.status === 'unconfirmed'),
      );
      // The link came in a mail to this address, so it proves the mailbox: ticking a list
      // confirms it, double opt-in or not.
      const fresh = add.filter((l) => l.status === null).map((l) => l.id);
      if (fresh.length > 0) await repo.subscribe(row.id, fresh, 'confirmed', consent);
      const again = add.filter((l) => l.status !== null).map((l) => l.id);
      const confirmed =
        again.length > 0
          ? await repo.updateSubscriptions(
              row.id,
              again,
              'confirmed',
              ['unsubscribed', 'unconfirmed'],
              consent,
            )
          : [];
      const left =
        remove.length > 0
          ? await repo.updateSubscriptions(
              row.id,
              remove.map((l) => l.id),
              'unsubscribed',
              ['confirmed', 'unconfirmed'],
              consent,
            )
          : [];
      const renamed = name !== undefined && name.name !== row.name;
      if (renamed) await repo.update(row.id, { name: name.name });
      const pendingConfirmed = confirmed.filter((c) => c.previous === 'unconfirmed');
      const changes = [
        { type: 'unsubscribe' as const, lists: left.map((l) => l.list_id) },
        { type: 'confirmed' as const, lists: pendingConfirmed.map((c) => c.list_id) },
      ];
      for (const { type, lists } of changes) {
        if (lists.length > 0) {
          await this.event(tx, row, visitor, { type, source: 'preferences' }, { lists });
        }
      }
      const subscribedIds = [...fresh, ...confirmed.map((c) => c.list_id)];
      return {
        ok: true,
        subscribed: await this.listNames(tx, subscribedIds),
        unsubscribed: await this.listNames(
          tx,
          left.map((l) => l.list_id),
        ),
        renamed,
      };
    });
  }

  /** "Unsubscribe from all" on the preference page. */
  async unsubscribeAll(visitor: Visitor, origin: RequestOrigin): Promise<string[]> {
    return inTransaction(this.pool, async (tx) => {
      const repo = new SubscribersRepository(tx);
      const row = await repo.lockById(visitor.subscriber.id);
      if (!row) return [];
      const changed = await repo.updateSubscriptions(
        row.id,
        null,
        'unsubscribed',
        ['confirmed', 'unconfirmed'],
        this.consent(visitor, origin, { all: true }),
      );
      return this.unsubscribed(tx, row, visitor, changed, { source: 'preferences', all: true });
    });
  }

  /** Records the unsubscribe event of the lists just left; returns their names. */
  private async unsubscribed(
    tx: PoolClient,
    row: SubscriberRow,
    visitor: Visitor,
    changed: { list_id: number }[],
    { source, ...detail }: { source: 'one-click' | 'preferences' } & Record<string, unknown>,
  ): Promise<string[]> {
    if (changed.length === 0) return [];
    const lists = changed.map((c) => c.list_id);
    await this.event(tx, row, visitor, { type: 'unsubscribe', source }, { lists, ...detail });
    return this.listNames(tx, lists);
  }

  /** Everything stored about the subscriber, for "download my data". */
  async exportData(visitor: Visitor): Promise<Record<string, unknown> | undefined> {
    const id = visitor.subscriber.id;
    const row = await new SubscribersRepository(this.pool).findById(id);
    if (!row) return undefined;
    const data = await new SubscriberPagesRepository(this.pool).dataOf(id, row.email);
    return {
      exportedAt: new Date().toISOString(),
      profile: {
        uuid: row.uuid,
        email: row.email,
        name: row.name,
        attributes: row.attributes,
        status: row.status,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      },
      ...data,
    };
  }

  /**
   * Erasure: the subscriber and everything naming them are deleted; only a hash of the address
   * stays (a suppression), so an import or the form cannot silently add them back.
   */
  async erase(visitor: Visitor): Promise<boolean> {
    const erased = await inTransaction(this.pool, async (tx) => {
      const repo = new SubscribersRepository(tx);
      const row = await repo.lockById(visitor.subscriber.id);
      if (!row) return false;
      await repo.erase(row);
      return true;
    });
    if (erased)
      this.log.info(
        { event: 'subscriber_erased', subscriberId: visitor.subscriber.id },
        'subscriber erased',
      );
    return erased;
  }

  private consent(
    visitor: Visitor,
    origin: RequestOrigin,
    extra: Record<string, unknown> = {},
  ): ConsentContext {
    return {
      source: 'preferences',
      ip: origin.ip,
      userAgent: origin.userAgent,
      detail: { ...(visitor.campaignUuid ? { campaignUuid: visitor.campaignUuid } : {}), ...extra },
    };
  }

  /** Stores an event that this request has already applied (no worker applies it again). */
  private async event(
    tx: PoolClient,
    row: SubscriberRow,
    visitor: Visitor,
    kind: Pick<NewEvent, 'type' | 'source'>,
    payload: Record<string, unknown>,
  ): Promise<void> {
    const events = new EventsRepository(tx);
    const id = await events.insert({
      ...kind,
      providerEventId: `${kind.source}-${randomUUID()}`,
      campaignId: visitor.campaign?.id ?? null,
      subscriberId: row.id,
      email: row.email,
      payload,
    });
    if (id !== undefined) await events.markApplied(id);
  }

  private listNames(tx: PoolClient, ids: number[]): Promise<string[]> {
    return new SubscriberPagesRepository(tx).listNames(ids);
  }
}
