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
import {
  CloudflareAccessNotAllowedError,
  isConflict,
  isNotFound,
} from './errors';

/** A catalog answer as the cache service stores it (JSON): the entity found, and when. */
type CachedAnswer = { entity: Entity; at: number };

/** Lists the entity refs a catalog user query matches, to name them when it matches several. */
export type CatalogUserRefFinder = (
  query: AuthResolverCatalogUserQuery,
) => Promise<string[]>;

/** The resolver context one sign-in uses, and how old the catalog answers it used are. */
export type CatalogLookups = {
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

function describeQuery(query: AuthResolverCatalogUserQuery): string {
  if ('filter' in query) {
    return JSON.stringify(query.filter);
  }
  if ('annotations' in query) {
    return JSON.stringify(query.annotations);
  }
  return JSON.stringify(query.entityRef);
}

/**
 * Wraps a resolver context for one sign-in, whichever resolver runs in it:
 * "several Users match" becomes a 403 that names them, and, with `reuse`, a
 * User (or Group) the catalog found is reused for `ttlMs` by every session
 * and replica asking the same query, so a new Access session of a known
 * person costs no catalog request. Misses and conflicts are never reused, so
 * a User added to the catalog signs in at once. Sign-in mirrors the auth
 * plugin's `signInWithCatalogUser` on top of this lookup.
 */
export function catalogLookups(
  ctx: AuthResolverContext,
  options: {
    findUserRefs?: CatalogUserRefFinder;
    reuse?: { cache: CacheService; ttlMs: number };
  },
): CatalogLookups {
  const { findUserRefs, reuse } = options;
  let oldest: number | undefined;
  const used = (at: number) => {
    oldest = oldest === undefined ? at : Math.min(oldest, at);
  };

  const askCatalog = async (
    query: AuthResolverCatalogUserQuery,
  ): Promise<Entity> => {
    try {
      return (await ctx.findCatalogUser(query)).entity;
    } catch (error) {
      if (!isConflict(error)) {
        throw error;
      }
      const refs = (await findUserRefs?.(query)) ?? [];
      throw new CloudflareAccessNotAllowedError(
        'ambiguous',
        `${
          refs.length > 1 ? refs.join(' and ') : 'Several User entities'
        } all match ${describeQuery(
          query,
        )}, so the sign-in cannot tell which one this person is; make exactly one User entity match`,
      );
    }
  };

  const findCatalogUser = async (query: AuthResolverCatalogUserQuery) => {
    if (!reuse) {
      return { entity: await askCatalog(query) };
    }
    const key = answerKey(query);
    const cached = await reuse.cache.get<CachedAnswer>(key);
    if (cached) {
      used(cached.at);
      return { entity: cached.entity };
    }
    const at = Date.now();
    const entity = await askCatalog(query);
    const answer: CachedAnswer = { entity, at };
    await reuse.cache.set(key, answer, { ttl: reuse.ttlMs });
    used(at);
    return { entity };
  };

  const lookups: AuthResolverContext = {
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
  return { ctx: lookups, oldestAnswerAt: () => oldest };
}
