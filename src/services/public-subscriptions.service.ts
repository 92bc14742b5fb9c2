// The public subscribe form and double opt-in (docs/contract.md §2, §4.2).
//
// The form's answer never depends on whether the address is known: the same page, and the
// confirmation mail goes out after the answer so its SMTP time cannot be measured either. What
// changes for an address:
//   - a new subscription to a single opt-in list is confirmed at once;
//   - a double opt-in list, a list the person once left, or an address that was erased at its
//     owner's request gets an unconfirmed subscription and a confirmation mail (at most one a
//     day per address); nobody is added back without pressing the link;
//   - an existing subscriber's name and deliverability status are never changed by the form,
//     and a subscriber who is not active (bounced, complained, blocklisted) is left alone.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { normalizeEmail, maskEmail } from '../domain/email.js';
import type { FieldError } from '../domain/errors.js';
import { inTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { EventsRepository } from '../db/repositories/events.repository.js';
import { SubscriberPagesRepository } from '../db/repositories/subscriber-pages.repository.js';
import {
  SubscribersRepository,
  type ConsentContext,
  type SubscriberRow,
} from '../db/repositories/subscribers.repository.js';
import type { Logger } from '../lib/logger.js';
import { packageRoot } from '../lib/paths.js';
import { newMessageId } from '../mail/message.js';
import { compileMessage, Personalizer } from '../mail/render.js';
import type { MailTransport } from '../mail/transport.js';
import { parseMailbox } from '../domain/sender.js';
import type { PublicLinks, Visitor } from './public-links.service.js';

/** At most one confirmation mail per address in this many hours. */
export const CONFIRMATION_INTERVAL_HOURS = 24;
export const NAME_MAX_LENGTH = 200;
const CONFIRMATION_SUBJECT = 'Confirm your subscription to {{ list.name }}';

export interface PublicList {
  id: number;
  uuid: string;
  name: string;
  description: string;
  optin: 'single' | 'double';
}

export interface SubscribeForm {
  email: string;
  name: string;
  /** List uuids. */
  lists: string[];
}

/** Where a request came from, for the consent records. */
export interface RequestOrigin {
  ip: string | undefined;
  userAgent: string | undefined;
}

export type SubscribeOutcome = { ok: true } | { ok: false; errors: FieldError[] };

interface PendingMail {
  subscriber: Pick<SubscriberRow, 'id' | 'uuid' | 'email' | 'name'>;
  listNames: string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A name typed into a public page: trimmed, single line, not too long. */
export function checkName(input: string | undefined): { name: string } | { error: string } {
  const name = (input ?? '').trim();
  if (CONTROL.test(name)) return { error: 'Your name must be on one line.' };
  if (name.length > NAME_MAX_LENGTH) {
    return { error: `Your name must be at most ${NAME_MAX_LENGTH} characters.` };
  }
  return { name };
}

export class PublicSubscriptionsService {
  private compiled: Promise<Personalizer> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly config: Config,
    private readonly transport: MailTransport,
    private readonly links: PublicLinks,
    private readonly log: Logger,
  ) {}

  async publicLists(): Promise<PublicList[]> {
    return new SubscriberPagesRepository(this.pool).publicLists();
  }

  async subscribe(form: SubscribeForm, origin: RequestOrigin): Promise<SubscribeOutcome> {
    const errors: FieldError[] = [];
    const email = normalizeEmail(form.email);
    if (!email.ok) {
      errors.push({
        path: 'email',
        message:
          email.reason === 'is required'
            ? 'Enter your email address.'
            : 'Enter an email address like name@example.org.',
      });
    }
    const name = checkName(form.name);
    if ('error' in name) errors.push({ path: 'name', message: name.error });
    const available = await this.publicLists();
    const chosen = available.filter((l) => form.lists.includes(l.uuid));
    if (chosen.length === 0) {
      errors.push({ path: 'lists', message: 'Choose at least one list.' });
    }
    if (!email.ok || 'error' in name || chosen.length === 0) return { ok: false, errors };

    const consent: ConsentContext = { source: 'form', ip: origin.ip, userAgent: origin.userAgent };
    const mail = await inTransaction(this.pool, (tx) =>
      this.apply(tx, email.email, name.name, chosen, consent),
    );
    // After the answer, in the background: how long SMTP takes must not tell a visitor whether
    // a mail was sent (that is, whether the address was already known).
    if (mail) this.inBackground(mail);
    return { ok: true };
  }

  /** Confirmation mails handed to the background and not yet sent (or failed). */
  private readonly pending = new Set<Promise<void>>();

  private inBackground(mail: PendingMail): void {
    const sending = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.sendConfirmation(mail))
      .finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** Resolves once every confirmation mail handed to the background so far has been dealt with. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The subscription changes of one form post; returns the confirmation mail to send, if any. */
  private async apply(
    tx: PoolClient,
    email: string,
    name: string,
    chosen: PublicList[],
    consent: ConsentContext,
  ): Promise<PendingMail | undefined> {
    const repo = new SubscribersRepository(tx);
    const suppressed = await repo.isSuppressed(email);
    const { row } = await repo.insertOrLock(email, name);
    if (row.status !== 'active') return undefined;

    const pages = new SubscriberPagesRepository(tx);
    const statusOf = await pages.statusesOn(
      row.id,
      chosen.map((l) => l.id),
    );
    const confirmNow: number[] = [];
    const pendingNew: number[] = [];
    const pendingAgain: number[] = [];
    let needsMail = false;
    for (const list of chosen) {
      const status = statusOf.get(list.id);
      if (status === 'confirmed') continue;
      if (status === undefined && list.optin === 'single' && !suppressed) {
        confirmNow.push(list.id);
        continue;
      }
      needsMail = true;
      if (status === undefined) pendingNew.push(list.id);
      else if (status === 'unsubscribed') pendingAgain.push(list.id);
    }
    if (confirmNow.length > 0) await repo.subscribe(row.id, confirmNow, 'confirmed', consent);
    if (pendingNew.length > 0) await repo.subscribe(row.id, pendingNew, 'unconfirmed', consent);
    if (pendingAgain.length > 0) {
      await repo.updateSubscriptions(row.id, pendingAgain, 'unconfirmed', ['unsubscribed'], {
        ...consent,
        detail: { resubscribe: true },
      });
    }
    if (!needsMail || !(await repo.claimConfirmationMail(row.id, CONFIRMATION_INTERVAL_HOURS))) {
      return undefined;
    }
    // The link confirms every pending subscription, so the mail names them all.
    const pending = await pages.listsWithStatus(row.id, 'unconfirmed');
    return { subscriber: row, listNames: pending.map((p) => p.name) };
  }

  private personalizer(): Promise<Personalizer> {
    this.compiled ??= (async () => {
      const mjml = await readFile(
        path.join(packageRoot(), 'templates', 'confirmation.mjml'),
        'utf8',
      );
      return new Personalizer(await compileMessage({ mjml, subject: CONFIRMATION_SUBJECT }));
    })();
    this.compiled.catch(() => {
      this.compiled = undefined;
    });
    return this.compiled;
  }

  private async sendConfirmation({ subscriber, listNames }: PendingMail): Promise<void> {
    const log = this.log.child({ subscriberId: subscriber.id, to: maskEmail(subscriber.email) });
    try {
      const rendered = (await this.personalizer()).render({
        subscriber: {
          email: subscriber.email,
          name: subscriber.name,
          uuid: subscriber.uuid,
          attributes: {},
        },
        campaign: { name: '', subject: '', uuid: '', data: {} },
        list: { name: listNames.join(', ') },
        org: { name: this.config.org.name, address: this.config.org.address ?? '' },
        unsubscribe_url: '',
        preferences_url: '',
        confirm_url: this.links.url('confirm', subscriber.uuid),
      });
      // MAIL_FROM's address, with the organisation as the name: who the reader subscribed to.
      const from = parseMailbox(this.config.mailFrom);
      await this.transport.send({
        from: { name: this.config.org.name, address: from.address },
        to: { ...(subscriber.name ? { name: subscriber.name } : {}), address: subscriber.email },
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        messageId: newMessageId(from.domain),
        // A confirmation is not list mail: no List-Unsubscribe(-Post), no Precedence: bulk.
        oneClick: false,
        bulk: false,
      });
      log.info({ event: 'confirmation_sent' }, 'confirmation mail sent');
    } catch (error) {
      log.error({ event: 'confirmation_failed', err: error }, 'confirmation mail not sent');
      // The day's allowance was not used: the next form post may try again.
      await new SubscribersRepository(this.pool)
        .releaseConfirmationMail(subscriber.id)
        .catch(() => undefined);
    }
  }

  /**
   * Confirms every pending subscription of the link's subscriber. Returns the names of the lists
   * confirmed now and of those that were already confirmed.
   */
  async confirm(
    visitor: Visitor,
    origin: RequestOrigin,
  ): Promise<{ confirmed: string[]; already: string[] } | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const repo = new SubscribersRepository(tx);
      const row = await repo.lockById(visitor.subscriber.id);
      if (!row) return undefined;
      const changed = await repo.updateSubscriptions(row.id, null, 'confirmed', ['unconfirmed'], {
        source: 'form',
        ip: origin.ip,
        userAgent: origin.userAgent,
        detail: { via: 'confirm-link' },
      });
      if (changed.length > 0) {
        const events = new EventsRepository(tx);
        const id = await events.insert({
          type: 'confirmed',
          source: 'preferences',
          providerEventId: `confirm-${randomUUID()}`,
          subscriberId: row.id,
          email: row.email,
          payload: { lists: changed.map((c) => c.list_id) },
        });
        // Applied here and now: no worker must apply it again.
        if (id !== undefined) await events.markApplied(id);
        // They asked to be added back themselves: the erasure no longer holds.
        await repo.unsuppress(row.email);
      }
      const rows = await new SubscriberPagesRepository(tx).listsWithStatus(row.id, 'confirmed');
      const now = new Set(changed.map((c) => c.list_id));
      return {
        confirmed: rows.filter((r) => now.has(r.list_id)).map((r) => r.name),
        already: rows.filter((r) => !now.has(r.list_id)).map((r) => r.name),
      };
    });
  }
}
