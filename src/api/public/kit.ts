// Shared by the public page modules (subscribe, links, preferences, data links).
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Container } from '../../container.js';
import type { PublicLinkPurpose, Visitor } from '../../services/public-links.service.js';
import type { RequestOrigin } from '../../services/public-subscriptions.service.js';
import { sendNotFound, sendPage } from './layout.js';
import type { Page } from './pages.js';

/** What every public page module needs: the services, the token limit and small helpers. */
export interface PublicKit {
  router: Router;
  services: Container['services'];
  /** Counts only refused links (unknown, forged): guessing is slowed, real clicks never are. */
  tokenLimit: RequestHandler;
  /** The visitor named by the token, or the 404 page (the same for every kind of bad link). */
  visitorOf: (
    req: Request,
    res: Response,
    purpose: PublicLinkPurpose,
  ) => Promise<Visitor | undefined>;
  preferencesPath: (visitor: Visitor) => string;
}

export const show = (res: Response, page: Page, status = 200) =>
  sendPage(res, status, page.title, page.body);

export function origin(req: Request): RequestOrigin {
  return { ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 500) };
}

export function publicKit(
  container: Container,
  router: Router,
  tokenLimit: RequestHandler,
): PublicKit {
  const { links } = container.services;
  return {
    router,
    services: container.services,
    tokenLimit,
    visitorOf: async (req, res, purpose) => {
      const visitor = await links.resolve(String(req.params.token), purpose);
      if (!visitor) sendNotFound(res);
      return visitor;
    },
    preferencesPath: (v) => links.path('preferences', v.subscriber.uuid, v.campaignUuid),
  };
}
