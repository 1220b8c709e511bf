import { createHash } from 'node:crypto';
import { CacheService } from '@backstage/backend-plugin-api';
import {
  DEFAULT_NAMESPACE,
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
} from '@backstage/plugin-auth-node';
import { isNotFound } from './errors';

/** A catalog answer as the cache service stores it (JSON): the entity found, and when. */
type CachedAnswer = { entity: Entity; at: number };

/** A resolver context that reuses the catalog's answers, and what it reused. */
export type CatalogAnswerReuse = {
  ctx: AuthResolverContext;
  /** When the oldest catalog answer used so far was read from the catalog; undefined if none was. */
  oldestAnswerAt(): number | undefined;
};

function answerKey(query: AuthResolverCatalogUserQuery): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(query))
    .digest('base64url');
  return `cfaccess:catalog-user:v1:${digest}`;
}

/**
 * Wraps a resolver context so that a User (or Group) the catalog found is
 * reused for `ttlMs` by every session and replica asking the same query:
 * a new Access session of a known person costs no catalog request.
 * Misses and conflicts are never reused, so a User added to the catalog
 * signs in at once. Sign-in mirrors the auth plugin's `signInWithCatalogUser`
 * on top of the reused lookup.
 */
export function reuseCatalogAnswers(
  ctx: AuthResolverContext,
  options: { cache: CacheService; ttlMs: number },
): CatalogAnswerReuse {
  const { cache, ttlMs } = options;
  let oldest: number | undefined;
  const used = (at: number) => {
    oldest = oldest === undefined ? at : Math.min(oldest, at);
  };

  const findCatalogUser = async (query: AuthResolverCatalogUserQuery) => {
    const key = answerKey(query);
    const cached = await cache.get<CachedAnswer>(key);
    if (cached) {
      used(cached.at);
      return { entity: cached.entity };
    }
    const at = Date.now();
    const { entity } = await ctx.findCatalogUser(query);
    const answer: CachedAnswer = { entity, at };
    await cache.set(key, answer, { ttl: ttlMs });
    used(at);
    return { entity };
  };

  const reusing: AuthResolverContext = {
    issueToken: params => ctx.issueToken(params),
    resolveOwnershipEntityRefs: entity => ctx.resolveOwnershipEntityRefs(entity),
    findCatalogUser,
    async signInWithCatalogUser(query, signInOptions) {
      let sub: string;
      let ent: string[];
      try {
        const { entity } = await findCatalogUser(query);
        sub = stringifyEntityRef(entity);
        ent = (await ctx.resolveOwnershipEntityRefs(entity)).ownershipEntityRefs;
      } catch (error) {
        const fallback = signInOptions?.dangerousEntityRefFallback;
        if (!isNotFound(error) || !fallback) {
          throw error;
        }
        sub = stringifyEntityRef(
          parseEntityRef(fallback.entityRef, {
            defaultKind: 'User',
            defaultNamespace: DEFAULT_NAMESPACE,
          }),
        );
        ent = [sub];
      }
      return ctx.issueToken({ claims: { sub, ent } });
    },
  };
  return { ctx: reusing, oldestAnswerAt: () => oldest };
}
