/** Catalog lookups for one sign-in: reused answers, named conflicts, and which Groups exist. */
import { CacheService } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';
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
} from '../errors';
import { SessionKeys } from '../cache/sessionKeys';
import { Clock } from '../clock';
import { NOT_ALLOWED_DETAILS } from '../refusals';
import {
  CatalogRefChecker,
  ChainResolverContext,
  RegisteredLocationFinder,
} from './resolverContext';

/** A catalog answer as the cache service stores it (JSON): what the catalog said, and when. */
type CachedAnswer<T> = { value: T; at: number };

/**
 * Lists the entity refs a catalog user query matches, when it matches
 * several: provisioned Users left out if another matches (they yield to it),
 * so one left is the answer and more are named in the refusal.
 */
export type CatalogUserRefFinder = (
  query: AuthResolverCatalogUserQuery,
) => Promise<string[]>;

/** Who a sign-in was decided to be: the claims of the Backstage token issued for it. */
export type SignInDecision = { sub: string; ent?: string[] };

/** The resolver context one sign-in uses, what was decided in it, and how old the catalog answers it used are. */
export type CatalogLookups = {
  ctx: AuthResolverContext;
  /** The claims of the last token issued in this context; undefined if none was. */
  decided(): SignInDecision | undefined;
  /** When the oldest catalog answer used so far was read from the catalog; undefined if none was. */
  oldestAnswerAt(): number | undefined;
};

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
    findExistingRefs?: CatalogRefChecker;
    findRegisteredLocations?: RegisteredLocationFinder;
    countProvisionedUsers?: () => Promise<number>;
    reuse?: { cache: CacheService; keys: SessionKeys; ttlMs: number };
    clock: Clock;
  },
): CatalogLookups {
  const {
    findUserRefs,
    findExistingRefs,
    findRegisteredLocations,
    countProvisionedUsers,
    reuse,
    clock,
  } = options;
  let oldest: number | undefined;
  let decided: SignInDecision | undefined;
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
      if (refs.length === 1) {
        // The others were provisioned Users, which yield to the one kept elsewhere.
        return (await ctx.findCatalogUser({ entityRef: refs[0] })).entity;
      }
      throw new CloudflareAccessNotAllowedError(
        'ambiguous',
        NOT_ALLOWED_DETAILS.ambiguous(refs, describeQuery(query)),
      );
    }
  };

  /** The catalog's answer to a question, reused from the cache when `reuse` is on; failures are never kept. */
  const reused = async <T>(
    kind: 'catalog-user' | 'catalog-entities',
    question: unknown,
    ask: () => Promise<T>,
  ): Promise<T> => {
    if (!reuse) {
      return ask();
    }
    const key = reuse.keys.answer(kind, question);
    const cached = await reuse.cache.get<CachedAnswer<T> & JsonObject>(key);
    if (cached) {
      used(cached.at);
      return cached.value;
    }
    const answer = { value: await ask(), at: clock.now() };
    await reuse.cache.set(key, answer as CachedAnswer<T> & JsonObject, {
      ttl: reuse.ttlMs,
    });
    used(answer.at);
    return answer.value;
  };

  const findCatalogUser = async (query: AuthResolverCatalogUserQuery) => ({
    entity: await reused('catalog-user', query, () => askCatalog(query)),
  });

  const issueToken: AuthResolverContext['issueToken'] = params => {
    decided = { sub: params.claims.sub, ent: params.claims.ent };
    return ctx.issueToken(params);
  };
  const lookups: ChainResolverContext = {
    issueToken,
    resolveOwnershipEntityRefs: entity =>
      ctx.resolveOwnershipEntityRefs(entity),
    findCatalogUser,
    async signInWithCatalogUser(query, signInOptions) {
      let sub: string;
      let ent: string[];
      try {
        const { entity } = await findCatalogUser(query);
        sub = stringifyEntityRef(entity);
        ent = (await ctx.resolveOwnershipEntityRefs(entity))
          .ownershipEntityRefs;
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
      return issueToken({ claims: { sub, ent } });
    },
    cloudflareAccess: {
      existing:
        findExistingRefs &&
        (refs =>
          reused('catalog-entities', [...refs].sort(), () =>
            findExistingRefs(refs),
          )),
      registeredLocation: findRegisteredLocations,
      provisionedUsers: countProvisionedUsers,
      clock,
    },
  };
  return {
    ctx: lookups,
    decided: () => decided,
    oldestAnswerAt: () => oldest,
  };
}
