import type { Actor } from '../domain/audit.js';

/** Who a request acts for: an API token or a signed-in user. Both pass the same scope checks. */
export interface Principal {
  scopes: string[];
  actor: Actor;
  /** Set when the request came with a signed-in user's session cookie. */
  session?: { idHash: Buffer; csrfToken: string } | undefined;
  user?: SessionUser | undefined;
}

export interface SessionUser {
  id: number;
  email: string;
  name: string;
  roles: string[];
  totpEnabled: boolean;
  /** REQUIRE_2FA: an admin without a second factor may only turn one on. */
  mustEnrolSecondFactor: boolean;
}
