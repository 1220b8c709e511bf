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

/** A sign-in as the chain hands it back: the result, and what kind of sign-in it was. */
export type SignedIn = {
  result: BackstageSignInResult;
  principal: SignInPrincipal;
};

/** A Backstage token this replica issued for a session, kept in its memory only. */
type IssuedSignIn = SignedIn & { reuseUntil: number };

// Bounds the tokens this replica keeps: about one per active Access session.
const ISSUED_SIGN_INS_MAX = 10_000;

export class SignInReuse {
  readonly #issued = new LRUCache<string, IssuedSignIn>({
    max: ISSUED_SIGN_INS_MAX,
  });

  constructor(
    private readonly cache: CacheService,
    private readonly metrics: CloudflareAccessMetrics,
  ) {}

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
    if (mine && mine.reuseUntil > Date.now()) {
      this.metrics.cacheRead({ layer: 'memory', result: 'hit' });
      return mine;
    }
    const shared = await this.cache.get<SharedSignIn>(key);
    if (!shared || shared.reuseUntil <= Date.now()) {
      return undefined;
    }
    const result = await ctx.issueToken({
      claims: { sub: shared.userEntityRef, ent: shared.ownershipEntityRefs },
    });
    const signedIn = { result, principal: principalOf(shared.userEntityRef) };
    this.#keep(key, signedIn, shared.reuseUntil);
    return signedIn;
  }

  /** Shares a resolved sign-in until `reuseUntil`, and keeps this replica's token for it. */
  async share(
    key: string,
    signedIn: SignedIn,
    claims: { sub: string; ent?: string[] },
    reuseUntil: number,
  ) {
    const ttl = reuseUntil - Date.now();
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
    const { exp } = decodeJwt(signedIn.result.token);
    const until = Math.min(reuseUntil, (exp ?? 0) * 1000 - MIN_TOKEN_LIFE_MS);
    if (until > Date.now()) {
      this.#issued.set(
        key,
        { ...signedIn, reuseUntil: until },
        { ttl: until - Date.now() },
      );
    }
  }
}
