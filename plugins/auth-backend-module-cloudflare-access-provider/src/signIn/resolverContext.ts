/** The resolver context of this module's sign-in chain: what it lets resolvers ask beyond the auth plugin's context. */
import { stringifyEntityRef } from '@backstage/catalog-model';
import { AuthResolverContext } from '@backstage/plugin-auth-node';
import { isCloudflareAccessProvisioned } from '@cfaccess/plugin-cloudflare-access-node';
import { Clock, SYSTEM_CLOCK } from '../clock';
import { isNotFound } from '../errors';

/** An entity that exists in the catalog, and whether the catalog module provisioned it. */
export type ExistingEntity = { entityRef: string; provisioned: boolean };

/** Lists which of some entity refs exist in the catalog, in one request. */
export type CatalogRefChecker = (refs: string[]) => Promise<ExistingEntity[]>;

/** The location registered through the catalog API that an entity comes from, if it does. */
export type RegisteredLocationFinder = (entityRef: string) => Promise<unknown>;

/**
 * What this module's sign-in chain adds to the resolver context it builds:
 * the catalog questions the auth plugin's context cannot ask, and the clock.
 */
export type ChainExtras = {
  existing?: CatalogRefChecker;
  registeredLocation?: RegisteredLocationFinder;
  provisionedUsers?: () => Promise<number>;
  clock: Clock;
};

/**
 * A resolver context as this module's sign-in chain builds it. A resolver
 * run by another chain gets the auth plugin's context, with no
 * `cloudflareAccess`: it asks the catalog one ref at a time, and cannot
 * bound provisioning by the catalog's count.
 */
export type ChainResolverContext = AuthResolverContext & {
  cloudflareAccess?: ChainExtras;
};

const extrasOf = (ctx: AuthResolverContext) =>
  (ctx as ChainResolverContext).cloudflareAccess;

/** The clock of this module's sign-in chain, else the system's. */
export function clockOf(ctx: AuthResolverContext): Clock {
  return extrasOf(ctx)?.clock ?? SYSTEM_CLOCK;
}

/**
 * Which of `refs` exist in the catalog: one batched request in this module's
 * sign-in chain, else one lookup per ref (callers bound `refs` by config).
 */
export async function existingEntities(
  ctx: AuthResolverContext,
  refs: string[],
): Promise<ExistingEntity[]> {
  const check = extrasOf(ctx)?.existing;
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
  return extrasOf(ctx)?.registeredLocation?.(entityRef);
}

/** How many Users are provisioned, where the sign-in chain can ask; undefined elsewhere. */
export async function provisionedUserCount(
  ctx: AuthResolverContext,
): Promise<number | undefined> {
  return extrasOf(ctx)?.provisionedUsers?.();
}
