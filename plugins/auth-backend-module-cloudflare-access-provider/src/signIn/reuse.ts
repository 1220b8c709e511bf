/** A session's sign-in reused: this replica's own token, or what another replica resolved. */
import { CacheService } from '@backstage/backend-plugin-api';
import {
  AuthResolverContext,
  BackstageSignInResult,
} from '@backstage/plugin-auth-node';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import { CloudflareAccessMetrics, SignInPrincipal } from '../metrics';
import { MIN_TOKEN_LIFE_MS } from '../cache/sessionKeys';
import { Clock, lruTimedBy } from '../clock';
import { SignInDecision } from './catalogLookups';

/**
 * A resolved sign-in as the shared cache stores it (JSON): who and what they
 * own, until when; never a token, which anyone reading the cache could replay.
 */
type SharedSignIn = {
  userEntityRef: string;
  ownershipEntityRefs: string[];
  /** Epoch ms after which the sign-in is resolved against the catalog again. */
  reuseUntil: number;
};

/** A sign-in as the chain hands it back: the result, who it was decided to be, and what kind of sign-in it was. */
export type SignedIn = {
  result: BackstageSignInResult;
  decided: SignInDecision;
  principal: SignInPrincipal;
};

/** A Backstage token this replica issued for a session, kept in its memory only. */
type IssuedSignIn = SignedIn & { reuseUntil: number };

// Bounds the tokens this replica keeps: about one per active Access session.
const ISSUED_SIGN_INS_MAX = 10_000;

export class SignInReuse {
  readonly #issued: LRUCache<string, IssuedSignIn>;

  constructor(
    private readonly cache: CacheService,
    private readonly metrics: CloudflareAccessMetrics,
    private readonly clock: Clock,
  ) {
    this.#issued = new LRUCache({
      max: ISSUED_SIGN_INS_MAX,
      ...lruTimedBy(clock),
    });
  }

  /**
   * The session's sign-in while it is reused: this replica's token, or a
   * token of this replica's own for what another replica (or this one before
   * a restart) resolved.
   */
  async reused(
    key: string,
    ctx: AuthResolverContext,
    principalOf: (userEntityRef: string) => SignInPrincipal,
  ): Promise<SignedIn | undefined> {
    const mine = this.#issued.get(key);
    if (mine && mine.reuseUntil > this.clock.now()) {
      this.metrics.cacheRead({ layer: 'memory', result: 'hit' });
      return mine;
    }
    const shared = await this.cache.get<SharedSignIn>(key);
    if (!shared || shared.reuseUntil <= this.clock.now()) {
      return undefined;
    }
    const decided = {
      sub: shared.userEntityRef,
      ent: shared.ownershipEntityRefs,
    };
    const result = await ctx.issueToken({ claims: decided });
    const signedIn = {
      result,
      decided,
      principal: principalOf(shared.userEntityRef),
    };
    this.#keep(key, signedIn, shared.reuseUntil);
    return signedIn;
  }

  /** Shares a resolved sign-in until `reuseUntil`, and keeps this replica's token for it. */
  async share(key: string, signedIn: SignedIn, reuseUntil: number) {
    const claims = signedIn.decided;
    const ttl = reuseUntil - this.clock.now();
    if (ttl <= 0) {
      return;
    }
    const entry: SharedSignIn = {
      userEntityRef: claims.sub,
      // The identity carries the ownership when the token omits it (auth.omitIdentityTokenOwnershipClaim).
      ownershipEntityRefs:
        signedIn.result.identity?.ownershipEntityRefs ?? claims.ent ?? [],
      reuseUntil,
    };
    await this.cache.set(key, entry, { ttl });
    this.#keep(key, signedIn, reuseUntil);
  }

  /** Keeps a token this replica issued for as long as the sign-in is reused and the token has life left. */
  #keep(key: string, signedIn: SignedIn, reuseUntil: number) {
    // The token's life is the auth plugin's to decide (auth.backstageTokenExpiration): read from what it issued.
    const { exp } = decodeJwt(signedIn.result.token);
    const until = Math.min(reuseUntil, (exp ?? 0) * 1000 - MIN_TOKEN_LIFE_MS);
    if (until > this.clock.now()) {
      this.#issued.set(
        key,
        { ...signedIn, reuseUntil: until },
        { ttl: until - this.clock.now() },
      );
    }
  }
}
