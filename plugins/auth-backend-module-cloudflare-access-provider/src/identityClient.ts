/** The get-identity client: the identity behind an Access session, trusted only where the token agrees. */
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import { Clock, SYSTEM_CLOCK } from './clock';
import { ACCESS_COOKIE, ACCESS_LOGIN_PATH } from './config';
import { refuse } from './errors';
import { CloudflareAccessMetrics, NO_METRICS } from './metrics';
import {
  DEGRADED_RETRY_MS,
  SessionKeys,
  sessionTtlMs,
} from './cache/sessionKeys';
import { CloudflareAccessClaims } from './types';
import {
  Answer,
  identityFromClaims,
  outcomeOf,
  readAnswer,
  SessionIdentity,
} from './identityAnswer';

/**
 * What the cache holds for a session: its identity, or the fact that it
 * ended (`for: 'good'`, Access said so) or may have (`for: 'now'`, another
 * server refused, kept only until the session is checked again).
 */
type CachedSession = SessionIdentity | { ended: true; for?: 'good' | 'now' };

/**
 * Fetches the identity behind an Access session from the team domain's
 * get-identity endpoint. The answer enriches the person (name, groups) only
 * when it agrees with the token's email and `sub`; Access ending the session
 * (its 401, a redirect to its login page) refuses it for the token's life; a
 * 403 or another redirect refuses it until the next check; an outage or an
 * unusable answer degrades to the token's own claims. Cached for the
 * session, rechecked every `checkIntervalMs`, one request in flight per session.
 */
export class AccessIdentityClient {
  readonly #identityUrl: string;
  readonly #loginPath: string;
  readonly #timeoutMs: number;
  readonly #checkIntervalMs: number;
  readonly #cache?: CacheService;
  readonly #keys: SessionKeys;
  readonly #logger?: LoggerService;
  readonly #metrics: CloudflareAccessMetrics;
  readonly #clock: Clock;
  readonly #inFlight = new Map<string, Promise<CachedSession>>();

  constructor(options: {
    identityUrl: string;
    timeoutMs: number;
    checkIntervalMs: number;
    cache?: CacheService;
    keys: SessionKeys;
    logger?: LoggerService;
    metrics?: CloudflareAccessMetrics;
    clock?: Clock;
  }) {
    this.#identityUrl = options.identityUrl;
    this.#loginPath = new URL(ACCESS_LOGIN_PATH, options.identityUrl).href;
    this.#keys = options.keys;
    this.#timeoutMs = options.timeoutMs;
    this.#checkIntervalMs = options.checkIntervalMs;
    this.#cache = options.cache;
    this.#logger = options.logger;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** The session's identity; throws the `session_ended` refusal for a session Access ended. */
  async getIdentity(
    token: string,
    claims: CloudflareAccessClaims,
  ): Promise<SessionIdentity> {
    const key = this.#keys.session('identity', claims);
    let session = await this.#cache?.get<CachedSession>(key);
    if (!session) {
      let pending = this.#inFlight.get(key);
      if (!pending) {
        pending = this.#load(key, token, claims).finally(() =>
          this.#inFlight.delete(key),
        );
        this.#inFlight.set(key, pending);
      }
      session = await pending;
    }
    if ('ended' in session) {
      return refuse(
        session.for === 'now' ? 'session_unconfirmed' : 'session_ended',
      );
    }
    return session;
  }

  async #load(
    key: string,
    token: string,
    claims: CloudflareAccessClaims,
  ): Promise<CachedSession> {
    const ttl = sessionTtlMs(claims, this.#clock);
    const started = performance.now();
    const answer = await this.#ask(token, claims);
    this.#metrics.identityCall(
      outcomeOf(answer),
      (performance.now() - started) / 1000,
    );
    let session: CachedSession;
    let keepMs: number;
    if (answer.kind === 'ended') {
      // Remembered for the token's life, so a replay of it costs no call.
      session = { ended: true, for: 'good' };
      keepMs = ttl;
    } else if (answer.kind === 'refused') {
      // Perhaps a firewall or a proxy, not Access: refused until the session is checked again, no longer.
      await this.#warnOnce(claims, ttl, answer.problem);
      session = { ended: true, for: 'now' };
      keepMs = Math.min(ttl, this.#checkIntervalMs);
    } else if (answer.kind === 'identity') {
      session = { identity: answer.identity, degraded: false };
      keepMs = Math.min(ttl, this.#checkIntervalMs);
    } else {
      await this.#warnOnce(claims, ttl, answer.problem);
      session = { identity: identityFromClaims(claims), degraded: true };
      keepMs = Math.min(ttl, DEGRADED_RETRY_MS, this.#checkIntervalMs);
    }
    if (keepMs > 0) {
      await this.#cache?.set(key, session, { ttl: keepMs });
    }
    return session;
  }

  async #warnOnce(
    claims: CloudflareAccessClaims,
    ttl: number,
    problem: string,
  ) {
    const key = this.#keys.session('identity-warned', claims);
    if (await this.#cache?.get(key)) {
      return;
    }
    if (ttl > 0) {
      await this.#cache?.set(key, true, { ttl });
    }
    this.#logger?.warn(
      `Cloudflare Access get-identity gave no usable identity for ${
        claims.email || claims.sub
      } (${problem}); signing in with the token's own claims and no groups until it does`,
    );
  }

  /**
   * Whether Access itself ended the session: its 401, or a redirect to its
   * own login page. A 403 or a redirect elsewhere may come from anything in
   * between, so it ends nothing for good.
   */
  #endedByAccess(status: number, location: string | null): boolean {
    if (status === 401) {
      return true;
    }
    if (status < 300 || status >= 400 || !location) {
      return false;
    }
    try {
      const target = new URL(location, this.#identityUrl);
      return target.href.startsWith(this.#loginPath);
    } catch {
      return false;
    }
  }

  async #ask(token: string, claims: CloudflareAccessClaims): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(this.#identityUrl, {
        // Access reads the session from its own cookie name, whatever this app calls it.
        headers: { cookie: `${ACCESS_COOKIE}=${token}` },
        // A redirect is Access sending an unauthenticated caller to its login page.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      return {
        kind: 'unusable',
        problem: `get-identity could not be reached: ${
          (error as Error).message
        }`,
        unanswered:
          (error as Error).name === 'TimeoutError' ? 'timeout' : 'error',
      };
    }
    const { status } = response;
    if (status === 401 || status === 403 || (status >= 300 && status < 400)) {
      await response.body?.cancel();
      return this.#endedByAccess(status, response.headers.get('location'))
        ? { kind: 'ended' }
        : {
            kind: 'refused',
            problem: `get-identity answered HTTP ${status}, which Access does not answer for an ended session (a firewall rule or a proxy in between?)`,
          };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return {
        kind: 'unusable',
        problem: `get-identity answered HTTP ${status}`,
        // A server error is Access (or the way to it) failing, as much as no answer is.
        ...(status >= 500 && { unanswered: 'error' as const }),
      };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      return {
        kind: 'unusable',
        problem: `get-identity answered with no JSON: ${
          (error as Error).message
        }`,
      };
    }
    return readAnswer(body, claims);
  }
}
