import type { IncomingHttpHeaders } from 'node:http';
import type { People } from './catalog';
import { AUTHORIZATION_COOKIE, readCookie } from './cookies';
import { sessionClaims } from './identity';
import type { Session, Sessions } from './sessions';
import { nowSeconds } from './tokens';
import type { AppTokens } from './tokens';
import type { AccessEmulatorServiceToken, MintOptions } from './types';

/** A token this close to expiry is replaced, as Access refreshes it before the app sees it lapse. */
const REFRESH_MARGIN_SECONDS = 30;

/** What Access decides about a request to the application. */
export type Admission =
  | { kind: 'user'; session: Session; token: string; refreshed: boolean }
  | { kind: 'service'; clientId: string; token: string }
  | { kind: 'denied'; clientId: string }
  | { kind: 'sign-in' };

export type SessionLookup =
  | { ok: true; session: Session; tokenExpiresAt: number }
  | { ok: false; reason: string };

export interface EdgeSettings {
  country: string;
  tokenLifetimeSeconds: number;
  serviceTokens: AccessEmulatorServiceToken[];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The Access edge's decisions: who is signed in, which token they carry, which service token is good. */
export class AccessEdge {
  constructor(
    private readonly tokens: AppTokens,
    private readonly sessions: Sessions,
    private readonly people: People,
    private readonly settings: EdgeSettings,
  ) {}

  /** Starts a session; `strangerGroups` (checked names) apply only to an email not in the catalog. */
  async signIn(
    email: string,
    strangerGroups: string[] = [],
  ): Promise<{ session: Session; token: string }> {
    const session = this.sessions.start(
      this.people.identify(email, strangerGroups),
    );
    return { session, token: await this.sessionToken(session) };
  }

  endSession(identityNonce: string): void {
    this.sessions.end(identityNonce);
  }

  /** A fresh app token for the session, which never outlives the session. */
  sessionToken(session: Session): Promise<string> {
    const exp = Math.min(
      nowSeconds() + this.settings.tokenLifetimeSeconds,
      session.expiresAt,
    );
    return this.tokens.mint({
      ...sessionClaims(session, this.settings.country),
      exp,
    });
  }

  serviceToken(
    clientId: string,
    claims: Record<string, unknown> = {},
    options?: MintOptions,
  ): Promise<string> {
    return this.tokens.mint(
      { common_name: clientId, sub: '', ...claims },
      options,
    );
  }

  /**
   * The live session a token belongs to. The proxy checks the audience and accepts an expired
   * token of a live session (to refresh it); get-identity wants an unexpired token from any app.
   */
  async sessionOf(
    token: string,
    options: { audience: boolean; allowExpired: boolean },
  ): Promise<SessionLookup> {
    const verification = await this.tokens.verify(token, options);
    if (!verification.ok) {
      return verification;
    }
    const session = this.sessions.find(verification.payload.identity_nonce);
    if (!session) {
      return { ok: false, reason: 'ERR_NO_SESSION' };
    }
    return { ok: true, session, tokenExpiresAt: verification.payload.exp ?? 0 };
  }

  async admit(headers: IncomingHttpHeaders): Promise<Admission> {
    const clientId = headerValue(headers['cf-access-client-id']);
    if (clientId !== undefined) {
      const secret = headerValue(headers['cf-access-client-secret']);
      const known = this.settings.serviceTokens.some(
        pair => pair.clientId === clientId && pair.clientSecret === secret,
      );
      return known
        ? {
            kind: 'service',
            clientId,
            token: await this.serviceToken(clientId),
          }
        : { kind: 'denied', clientId };
    }

    const token = readCookie(headers.cookie, AUTHORIZATION_COOKIE);
    if (!token) {
      return { kind: 'sign-in' };
    }
    const lookup = await this.sessionOf(token, {
      audience: true,
      allowExpired: true,
    });
    if (!lookup.ok) {
      return { kind: 'sign-in' };
    }
    const { session, tokenExpiresAt } = lookup;
    if (tokenExpiresAt - nowSeconds() > REFRESH_MARGIN_SECONDS) {
      return { kind: 'user', session, token, refreshed: false };
    }
    return {
      kind: 'user',
      session,
      token: await this.sessionToken(session),
      refreshed: true,
    };
  }
}
