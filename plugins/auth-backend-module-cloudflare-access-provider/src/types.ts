/** Public types: token claims, the Access identity, and what the authenticator hands to resolvers. */

/**
 * The claims of a Cloudflare Access application token.
 *
 * Compatible with the upstream module's type; claims that only some tokens
 * carry are optional here because service tokens and older sessions lack them.
 *
 * @public
 */
export type CloudflareAccessClaims = {
  /** The Application Audience (AUD) tags the token was issued for. */
  aud: string[];
  /** The person's email; empty for service tokens. */
  email: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issue time, seconds since the epoch. */
  iat: number;
  /** Not-before time, seconds since the epoch. */
  nbf?: number;
  /** The Access session id of older tokens. */
  nonce: string;
  /** One per Access session; keys the identity behind the session. */
  identity_nonce: string;
  /** The Access user id; empty for service tokens. */
  sub: string;
  /** The team domain, e.g. `https://acme.cloudflareaccess.com`. */
  iss: string;
  /** SAML or OIDC attributes the administrator chose to pass in the token. */
  custom: string;
  /** `app` for application tokens. */
  type?: string;
  /** The service token's Client ID, for service tokens only. */
  common_name?: string;
  /** The country the request came from. */
  country?: string;
};

/**
 * An Access group, as returned by the get-identity endpoint.
 *
 * @public
 */
export type CloudflareAccessGroup = {
  /** Group id: what `allowedGroups` and `accessGroups` match. */
  id: string;
  /** Display name; in many identity providers anyone can create a group with any name, so it decides nothing. */
  name: string;
  /** Group email address, which Google-style identity providers use as the id; '' when none. */
  email: string;
};

/**
 * The identity behind an Access session.
 *
 * @public
 */
export type CloudflareAccessIdentityProfile = {
  id: string;
  name: string;
  email: string;
  groups: CloudflareAccessGroup[];
};

/**
 * What the authenticator hands to sign-in resolvers.
 *
 * @public
 */
export type CloudflareAccessResult = {
  claims: CloudflareAccessClaims;
  cfIdentity: CloudflareAccessIdentityProfile;
  /** Seconds until the Access token expires. */
  expiresInSeconds?: number;
  /** The raw Access token; stays on the server, never in `providerInfo`. */
  token: string;
  /** Set for service tokens: the configured entry the token matched. */
  serviceToken?: CloudflareAccessServiceToken;
  /**
   * True when the identity endpoint could not be reached, or gave an answer
   * that did not agree with the token, and the identity was built from the
   * token's own claims (no groups).
   */
  degraded?: boolean;
  /**
   * The Backstage Group refs that the provider's `accessGroups` config maps
   * this person's Access groups to, by group id or email. Not checked
   * against the catalog: a resolver grants only those that exist.
   */
  accessGroupEntityRefs?: string[];
  /**
   * The person's Access groups that the provider's `accessGroups` config
   * maps to nothing; what a resolver's `provisionGroups` keeps as Groups.
   */
  unmappedAccessGroups?: CloudflareAccessGroup[];
};

/**
 * What the browser receives as `providerInfo`: the result without the raw token.
 *
 * @public
 */
export type CloudflareAccessProviderInfo = Omit<
  CloudflareAccessResult,
  'token' | 'serviceToken' | 'unmappedAccessGroups'
> & {
  /** The service token's Client ID, when a service token signed in. */
  serviceTokenId?: string;
};

/**
 * A service token allowed to sign in, from `serviceTokens` in config.
 *
 * @public
 */
export type CloudflareAccessServiceToken = {
  /** The service token's Client ID. */
  token: string;
  /** The email or entity ref the service token signs in as. */
  subject: string;
  /** When set, the Backstage identity's ownership is exactly this list. */
  ownershipEntityRefs?: string[];
  /** When set, the token is only accepted for these audiences. */
  audience?: string[];
};
