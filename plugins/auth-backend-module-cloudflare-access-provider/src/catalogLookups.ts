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
import { isCloudflareAccessProvisioned } from '@cfaccess/plugin-cloudflare-access-node';
import {
  CloudflareAccessNotAllowedError,
  isConflict,
  isNotFound,
} from './errors';
import { SessionKeys } from './cache/sessionKeys';
import { NOT_ALLOWED_DETAILS } from './refusals';

/** A catalog answer as the cache service stores it (JSON): what the catalog said, and when. */
type CachedAnswer<T> = { value: T; at: number };

/** An entity that exists in the catalog, and whether the catalog module provisioned it. */
export type ExistingEntity = { entityRef: string; provisioned: boolean };

/** Lists which of some entity refs exist in the catalog, in one request. */
export type CatalogRefChecker = (refs: string[]) => Promise<ExistingEntity[]>;

/** The location registered through the catalog API that an entity comes from, if it does. */
export type RegisteredLocationFinder = (entityRef: string) => Promise<unknown>;

/** What the module's sign-in chain knows how to ask the catalog, for the resolver contexts it builds. */
type CatalogQuestions = {
  existing?: CatalogRefChecker;
  registeredLocation?: RegisteredLocationFinder;
  provisionedUsers?: () => Promise<number>;
};
const catalogQuestions = new WeakMap<AuthResolverContext, CatalogQuestions>();

/**
 * Which of `refs` exist in the catalog: one batched request in this module's
 * sign-in chain, else one lookup per ref (callers bound `refs` by config).
 */
export async function existingEntities(
  ctx: AuthResolverContext,
  refs: string[],
): Promise<ExistingEntity[]> {
  const check = catalogQuestions.get(ctx)?.existing;
  if (check) {
    return check(refs);
  }
  const found = await Promise.all(
    refs.map(async ref => {
      try {
        const { entity } = await ctx.findCatalogUser({ entityRef: ref });
        return [
          {
            entityRef: stringifyEntityRef(entity),
            provisioned: isCloudflareAccessProvisioned(entity),
          },
        ];
      } catch (error) {
        if (isNotFound(error)) {
          return [];
        }
        throw error;
      }
    }),
  );
  return found.flat();
}

/** Which of `refs` exist in the catalog. */
export async function existingEntityRefs(
  ctx: AuthResolverContext,
  refs: string[],
): Promise<string[]> {
  return (await existingEntities(ctx, refs)).map(({ entityRef }) => entityRef);
}

/**
 * The location registered through the catalog API that an entity comes
 * from, where the sign-in chain can ask; undefined elsewhere.
 */
export async function registeredLocationOf(
  ctx: AuthResolverContext,
  entityRef: string,
): Promise<unknown> {
  return catalogQuestions.get(ctx)?.registeredLocation?.(entityRef);
}

/** How many Users are provisioned, where the sign-in chain can ask; undefined elsewhere. */
export async function provisionedUserCount(
  ctx: AuthResolverContext,
): Promise<number | undefined> {
  return catalogQuestions.get(ctx)?.provisionedUsers?.();
}

/**
 * Lists the entity refs a catalog user query matches, when it matches
 * several: provisioned Users left out if another matches (they yield to it),
 * so one left is the answer and more are named in the refusal.
 */
export type CatalogUserRefFinder = (
  query: AuthResolverCatalogUserQuery,
) => Promise<string[]>;

/** The resolver context one sign-in uses, and how old the catalog answers it used are. */
export type CatalogLookups = {
  ctx: AuthResolverContext;
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
  },
): CatalogLookups {
  const {
    findUserRefs,
    findExistingRefs,
    findRegisteredLocations,
    countProvisionedUsers,
    reuse,
  } = options;
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
    const answer = { value: await ask(), at: Date.now() };
    await reuse.cache.set(key, answer as CachedAnswer<T> & JsonObject, {
      ttl: reuse.ttlMs,
    });
    used(answer.at);
    return answer.value;
  };

  const findCatalogUser = async (query: AuthResolverCatalogUserQuery) => ({
    entity: await reused('catalog-user', query, () => askCatalog(query)),
  });

  const lookups: AuthResolverContext = {
    issueToken: params => ctx.issueToken(params),
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
      return ctx.issueToken({ claims: { sub, ent } });
    },
  };
  catalogQuestions.set(lookups, {
    existing:
      findExistingRefs &&
      (refs =>
        reused('catalog-entities', [...refs].sort(), () =>
          findExistingRefs(refs),
        )),
    registeredLocation: findRegisteredLocations,
    provisionedUsers: countProvisionedUsers,
  });
  return { ctx: lookups, oldestAnswerAt: () => oldest };
}
