// GET and POST /preferences/:token: lists, name, unsubscribe from all; "download my data" and
// "erase me" only mail a one-hour link to the address (data.routes.ts answers it).
import type { Visitor } from '../../services/public-links.service.js';
import { formFields, readRawBody } from './body.js';
import { dataLinkSentPage } from './data-pages.js';
import { html } from './html.js';
import { origin, show, type PublicKit } from './kit.js';
import { sendError, sendNotFound } from './layout.js';
import { preferencesPage, savedNotice, type PreferencesState } from './pages.js';

export function preferencesRoutes(kit: PublicKit): void {
  const { router, services, tokenLimit, visitorOf, preferencesPath } = kit;
  const { links, publicPreferences: preferences, dataRequests } = services;
  const preferencesState = async (
    visitor: Visitor,
    extra: Partial<PreferencesState> = {},
  ): Promise<PreferencesState> => ({
    email: visitor.subscriber.email,
    name: visitor.subscriber.name,
    token: visitor.token,
    lists: await preferences.lists(visitor.subscriber.id),
    ...extra,
  });

  router.get('/preferences/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'preferences');
    if (!visitor) return;
    show(res, preferencesPage(await preferencesState(visitor)));
  });

  router.post('/preferences/:token', tokenLimit, readRawBody, async (req, res) => {
    const visitor = await visitorOf(req, res, 'preferences');
    if (!visitor) return;
    const fields = formFields(req);
    switch (fields.get('action')) {
      case 'save': {
        const outcome = await preferences.save(
          visitor,
          { name: fields.get('name'), lists: fields.getAll('lists') },
          origin(req),
        );
        if (!outcome.ok) {
          const state = await preferencesState(visitor, { errors: outcome.errors });
          show(res, preferencesPage({ ...state, name: fields.get('name') ?? state.name }), 400);
          return;
        }
        const fresh = await links.resolve(visitor.token, 'preferences');
        if (!fresh) return sendNotFound(res);
        show(res, preferencesPage(await preferencesState(fresh, { notice: savedNotice(outcome) })));
        return;
      }
      case 'unsubscribe-all': {
        await preferences.unsubscribeAll(visitor, origin(req));
        const notice = html`<p>
          You are unsubscribed from all lists: you will receive no more messages from us. Tick a
          list and save to subscribe again.
        </p>`;
        show(res, preferencesPage(await preferencesState(visitor, { notice })));
        return;
      }
      case 'export': {
        // The page's link travels in every newsletter: the download link goes to the address.
        await dataRequests.request(visitor, 'my-data');
        const page = dataLinkSentPage(
          visitor.subscriber.email,
          'my-data',
          preferencesPath(visitor),
        );
        show(res, page);
        return;
      }
      case 'erase': {
        if (fields.get('confirm') !== 'erase') {
          const errors = [{ path: 'confirm', message: 'Tick the box to confirm the erasure.' }];
          show(res, preferencesPage(await preferencesState(visitor, { errors })), 400);
          return;
        }
        await dataRequests.request(visitor, 'erase');
        show(res, dataLinkSentPage(visitor.subscriber.email, 'erase', preferencesPath(visitor)));
        return;
      }
      default:
        sendError(res, 400);
    }
  });
}
