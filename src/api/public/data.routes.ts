// The links mailed by "download my data" and "erase me" (an hour each): GET /my-data/:token
// downloads, GET /erase/:token shows the confirmation, and only its button (POST) erases.
import { formFields, readRawBody } from './body.js';
import { eraseConfirmPage } from './data-pages.js';
import { show, type PublicKit } from './kit.js';
import { sendNotFound } from './layout.js';
import { erasedPage } from './pages.js';

export function dataRoutes({ router, services, tokenLimit, visitorOf }: PublicKit): void {
  const { publicPreferences: preferences } = services;
  router.get('/my-data/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'my-data');
    if (!visitor) return;
    const data = await preferences.exportData(visitor);
    if (!data) return sendNotFound(res);
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', 'attachment; filename="my-data.json"')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(data, null, 2));
  });

  // A GET shows the confirmation (mail scanners follow links); only the button's POST erases.
  router.get('/erase/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'erase');
    if (!visitor) return;
    show(res, eraseConfirmPage(visitor.subscriber.email, visitor.token));
  });

  router.post('/erase/:token', tokenLimit, readRawBody, async (req, res) => {
    const visitor = await visitorOf(req, res, 'erase');
    if (!visitor) return;
    if (formFields(req).get('confirm') !== 'erase') {
      show(res, eraseConfirmPage(visitor.subscriber.email, visitor.token), 400);
      return;
    }
    if (!(await preferences.erase(visitor))) return sendNotFound(res);
    show(res, erasedPage());
  });

  // Bare paths without a token, and tokens with a "/" in them (the standard base64 alphabet, a
}
