import type { CryptoKey } from 'jose';

/** A group membership given directly; `name` alone is the same as giving the name as a string. */
export interface AccessEmulatorGroup {
  /** Default: the catalog Group's `cloudflare.com/access-group-id` annotation, else a random UUID per name. */
  id?: string;
  name: string;
  /** Default: the catalog Group's `spec.profile.email`, else ''. */
  email?: string;
}

/** A person who can sign in, in addition to those read from the catalog. */
export interface AccessEmulatorUser {
  email: string;
  name?: string;
  /** The Access user id (`sub`, `user_uuid`). Default: a random UUID, kept per email. */
  id?: string;
  /** Group names, or groups with their own id and email. */
  groups?: (string | AccessEmulatorGroup)[];
}

/** A service token pair, as created under Access > Service Auth. */
export interface AccessEmulatorServiceToken {
  clientId: string;
  clientSecret: string;
}

export interface AccessEmulatorOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** AUD tag(s) put in every token's `aud`. */
  audience: string | string[];
  /** URL to reverse-proxy to; without it, signed-in requests get a JSON echo of the headers. */
  upstream?: string;
  /**
   * Path prefixes sent to other upstreams, like a Cloudflare Tunnel's ingress
   * rules: `{ '/api/': 'http://localhost:7007' }`. The longest matching prefix wins.
   * A list of upstreams is taken in turn (round robin), as a Tunnel balances
   * over replicas: `{ '/api/': ['http://localhost:7007', 'http://localhost:7008'] }`.
   */
  routes?: Record<string, string | string[]>;
  /**
   * The `iss` of every token, when the emulator stands in for a team domain
   * reached under another name (e.g. `https://acme.cloudflareaccess.com`
   * through a local TLS proxy). Default: its own URL.
   */
  issuer?: string;
  /** Files or directories of Backstage catalog YAML. */
  catalog?: string[];
  /** Added to the people read from the catalog. */
  users?: AccessEmulatorUser[];
  serviceTokens?: AccessEmulatorServiceToken[];
  /** Default 3600. */
  tokenLifetimeSeconds?: number;
  /** Default 86400. */
  sessionDurationSeconds?: number;
  /** Default: no automatic rotation. */
  keyRotationIntervalSeconds?: number;
  /** Default 'GB'. */
  country?: string;
  /** Default: silent. */
  logger?: (line: string) => void;
}

/** 'error' = 500 response; 'timeout' = accept the request and never answer (until close). */
export type CertsMode = 'ok' | 'error' | 'timeout';

/**
 * As CertsMode, plus Access's other answers: 'error-body' = 200 with `{ err }` and no identity;
 * 'ended' = 401 as for an ended or revoked session; 'login-redirect' = 302 to the login page;
 * 'forbidden' = 403 with an HTML page that is not Access's, as a firewall or proxy in between answers.
 */
export type IdentityMode =
  | CertsMode
  | 'error-body'
  | 'ended'
  | 'login-redirect'
  | 'forbidden';

/** The modes each endpoint can be set to. */
export interface EndpointModes {
  certs: CertsMode;
  identity: IdentityMode;
}

/** Any endpoint's mode, as before certs and get-identity had their own. */
export type EndpointMode = EndpointModes[keyof EndpointModes];

export interface MintOptions {
  /** Which key signs; 'unpublished' = a key never served in certs. Default 'current'. */
  key?: 'current' | 'previous' | 'unpublished';
  /** Extra or overriding protected header fields, e.g. { kid: 'x' }. */
  header?: Record<string, unknown>;
}

/** A public key as served in certs. */
export interface AccessEmulatorJwk {
  kid: string;
  kty: string;
  n: string;
  e: string;
  alg: 'RS256';
  use: 'sig';
}

/** A public signing key as the emulator holds it. */
export interface AccessEmulatorPublicKey {
  kid: string;
  /** SPKI PEM text. */
  publicKeyPem: string;
  publicKey: CryptoKey;
  jwk: AccessEmulatorJwk;
}

/** A group in an identity. */
export interface AccessEmulatorIdentityGroup {
  id: string;
  name: string;
  email: string;
}

/** What get-identity answers for an Access session. */
export interface AccessEmulatorIdentity {
  /** The identity provider's user id, distinct from `user_uuid`. */
  id: string;
  name: string;
  email: string;
  groups: AccessEmulatorIdentityGroup[];
  idp: { id: string; type: 'emulator' };
  /** The Access user id: the token's `sub`. */
  user_uuid: string;
  /** When the session started, epoch seconds. */
  iat: number;
  geo: { country: string };
  amr: string[];
}

export interface AccessEmulatorSignInOptions {
  /**
   * Access group names for an email not in the catalog, resolved as catalog group names are
   * (trimmed, empty ones dropped, at most 20 of at most 100 characters). Ignored for a known person.
   */
  groups?: string[];
}

export interface AccessEmulatorSignIn {
  token: string;
  identityNonce: string;
  sub: string;
}

export type CountedEndpoint =
  | 'certs'
  | 'identity'
  | 'login'
  | 'logout'
  | 'proxy';

export interface AccessEmulator {
  /** Base URL, e.g. http://127.0.0.1:43121: the team domain and the issuer unless `issuer` was given. */
  readonly url: string;
  /** The issuer of its tokens: `issuer` if given, else url. */
  readonly teamDomain: string;
  /** `${url}/cdn-cgi/access/certs` */
  readonly certsUrl: string;
  readonly audience: string[];
  /**
   * Creates an Access session for the email (catalog identity if known, else a stranger in
   * `options.groups`) and returns its app token.
   */
  signIn(
    email: string,
    options?: AccessEmulatorSignInOptions,
  ): Promise<AccessEmulatorSignIn>;
  /** What get-identity would answer for a new session of the email, so tests can read its ids. */
  identityOf(email: string): AccessEmulatorIdentity;
  /**
   * Signs any claims as an Access app token. Defaults: iss=url, aud=audience, iat/nbf=now,
   * exp=now+tokenLifetime, type='app'; `claims` override or add (a claim set to undefined is
   * removed).
   */
  mintToken(
    claims?: Record<string, unknown>,
    options?: MintOptions,
  ): Promise<string>;
  /** A service-token JWT as Access forwards it: common_name=clientId, sub=''. */
  mintServiceToken(
    clientId: string,
    claims?: Record<string, unknown>,
    options?: MintOptions,
  ): Promise<string>;
  rotateKeys(): Promise<void>;
  /** Public keys: current, previous (undefined before the first rotation) and the unpublished one. */
  keys(): {
    current: AccessEmulatorPublicKey;
    previous?: AccessEmulatorPublicKey;
    unpublished: AccessEmulatorPublicKey;
  };
  setEndpointMode<E extends keyof EndpointModes>(
    endpoint: E,
    mode: EndpointModes[E],
  ): void;
  /**
   * While set, get-identity answers any live session's valid token (in mode 'ok') with this
   * person's identity instead of the session's own; undefined restores normal answers.
   */
  answerIdentityAs(email: string | undefined): void;
  /** Requests proxied so far to each upstream URL (a route's or the default upstream). */
  upstreamRequestCounts(): Record<string, number>;
  /** Requests served so far, per endpoint (counts every request, including failed/timeout ones). */
  requestCount(endpoint: CountedEndpoint): number;
  resetCounts(): void;
  /** Ends a session by its identity_nonce (as logout does). */
  endSession(identityNonce: string): void;
  /** Closes the server, all sockets (incl. hanging 'timeout' requests and websockets) and timers. */
  close(): Promise<void>;
}
