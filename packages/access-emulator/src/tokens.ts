import { SignJWT, createLocalJWKSet, errors, jwtVerify } from 'jose';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import type { KeyRing } from './keys';
import type { MintOptions } from './types';

export interface TokenSettings {
  /** The team domain URL, put in `iss`. */
  issuer: string;
  audience: string[];
  lifetimeSeconds: number;
}

export type Verification =
  | { ok: true; payload: JWTPayload; expired: boolean }
  | { ok: false; reason: string };

/** Drops keys whose value is undefined, so callers can remove a default claim or header field. */
function withoutUndefined(
  values: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  );
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs and checks Access application tokens with the account's key ring. */
export class AppTokens {
  constructor(
    private readonly keys: KeyRing,
    private readonly settings: TokenSettings,
  ) {}

  async mint(
    claims: Record<string, unknown> = {},
    options: MintOptions = {},
  ): Promise<string> {
    const now = nowSeconds();
    const payload = withoutUndefined({
      iss: this.settings.issuer,
      aud: this.settings.audience,
      iat: now,
      nbf: now,
      exp: now + this.settings.lifetimeSeconds,
      type: 'app',
      ...claims,
    });
    const key = this.keys.signingKey(options.key ?? 'current');
    const header = withoutUndefined({
      alg: 'RS256',
      kid: key.kid,
      ...options.header,
    });
    return new SignJWT(payload)
      .setProtectedHeader(header as JWTHeaderParameters)
      .sign(key.privateKey);
  }

  /**
   * Checks signature (published keys only), issuer, `type: app` and optionally audience.
   * With allowExpired, an expired but otherwise valid token still yields its payload, so a
   * live session can get a fresh token.
   */
  async verify(
    token: string,
    options: { audience: boolean; allowExpired: boolean },
  ): Promise<Verification> {
    const jwks = createLocalJWKSet({ keys: this.keys.publishedJwks() });
    let payload: JWTPayload;
    let expired = false;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: ['RS256'],
        issuer: this.settings.issuer,
        audience: options.audience ? this.settings.audience : undefined,
      }));
    } catch (error) {
      // jose checks exp after signature, issuer and audience, so the payload here passed those.
      if (options.allowExpired && error instanceof errors.JWTExpired) {
        payload = error.payload;
        expired = true;
      } else {
        return {
          ok: false,
          reason:
            error instanceof errors.JOSEError
              ? error.code
              : 'ERR_INVALID_TOKEN',
        };
      }
    }
    if (payload.type !== 'app') {
      return { ok: false, reason: 'ERR_NOT_AN_APP_TOKEN' };
    }
    return { ok: true, payload, expired };
  }
}
