// GET and POST /subscribe: the form for public lists; double opt-in mails a confirmation.
// Rate-limited per client address; the answer never tells whether an address is known.
import type { Container } from '../../container.js';
import { formFields, readRawBody } from './body.js';
import { origin, show, type PublicKit } from './kit.js';
import { HONEYPOT_FIELD, subscribePage, subscribeReceivedPage } from './pages.js';
import { SUBSCRIBE_LIMIT, formRateLimit } from './rate-limit.js';

export function subscribeRoutes({ router, services }: PublicKit, container: Container): void {
  const { publicSubscriptions: subscriptions } = services;
  router.get('/subscribe', async (_req, res) => {
    show(res, subscribePage(await subscriptions.publicLists()));
  });

  router.post(
    '/subscribe',
    formRateLimit(container.redis, container.config.queuePrefix, SUBSCRIBE_LIMIT),
    readRawBody,
    async (req, res) => {
      const fields = formFields(req);
      const values = {
        email: fields.get('email') ?? '',
        name: fields.get('name') ?? '',
        lists: fields.getAll('lists'),
      };
      if ((fields.get(HONEYPOT_FIELD) ?? '') !== '') {
        // A bot filled the hidden field: it gets the usual answer and nothing happens.
        req.log.info({ event: 'subscribe_honeypot' }, 'subscribe form honeypot filled');
        show(res, subscribeReceivedPage(values.email.trim()));
        return;
      }
      const outcome = await subscriptions.subscribe(values, origin(req));
      if (!outcome.ok) {
        show(res, subscribePage(await subscriptions.publicLists(), values, outcome.errors), 400);
        return;
      }
      show(res, subscribeReceivedPage(values.email.trim()));
    },
  );
}
