/**
 * An Access group of the signed-in person.
 *
 * @public
 */
export type CloudflareAccessGroup = {
  id: string;
  name: string;
  email: string;
};

/**
 * What the `cfaccess` provider sends the browser as `providerInfo`: the
 * Access identity and token claims, never the token itself.
 *
 * Mirrors `CloudflareAccessProviderInfo` of the backend module, which a web
 * package cannot import.
 *
 * @public
 */
export type CloudflareAccessProviderInfo = {
  /** The Access token's claims (`email`, `sub`, `identity_nonce`, `country`...). */
  claims: Record<string, unknown>;
  /** The identity behind the Access session. */
  cfIdentity: {
    id: string;
    name: string;
    email: string;
    groups: CloudflareAccessGroup[];
  };
  /** Seconds until the Access token expires. */
  expiresInSeconds?: number;
  /** True when Cloudflare's identity endpoint was unreachable: no groups are known. */
  degraded?: boolean;
  /** The service token's Client ID, when a service token signed in. */
  serviceTokenId?: string;
};

/**
 * Where the browser's Access session stands, as the auth backend last saw it.
 *
 * - `pending`: not checked yet;
 * - `active`: signed in, with the provider info of the latest check;
 * - `ended`: the Access session is over (401, or Access redirected to its login);
 *   `reason` is the backend's refusal reason when it gave one, e.g.
 *   `session_ended` for a session signed out or revoked in Access;
 * - `refused`: Access let the person through but Backstage refused them (403):
 *   `message` is the backend's sentence for the person, `reason` its code
 *   (e.g. `domain`, `no_user`) for their administrator.
 *
 * @public
 */
export type CloudflareAccessSessionState =
  | { status: 'pending' }
  | { status: 'active'; providerInfo: CloudflareAccessProviderInfo }
  | { status: 'ended'; reason?: string }
  | { status: 'refused'; message: string; reason?: string };
