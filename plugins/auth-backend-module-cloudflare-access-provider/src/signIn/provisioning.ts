/** Provisioned sign-ins: the bounds on new people, the name that must be theirs, the Groups they get. */
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  asciiLowerCase,
  isCloudflareAccessProvisioned,
  PROVISIONING_DEFAULTS,
  provisionedUserEntityRef,
  userSourceOf,
} from '@cfaccess/plugin-cloudflare-access-node';
import { AuthResolverContext } from '@backstage/plugin-auth-node';
import {
  clockOf,
  provisionedUserCount,
  registeredLocationOf,
} from './resolverContext';
import { CloudflareAccessNotAllowedError, isNotFound } from '../errors';
import { NOT_ALLOWED_DETAILS } from '../refusals';
import { CloudflareAccessResult } from '../types';
import {
  accessGroupRefs,
  provisionedGroupRefs,
  provisionedMemberOf,
} from './groups';
import { ResolverOptions } from './options';
import { emailOf, Info } from './policy';

const HOUR_MS = 60 * 60 * 1000;

/**
 * Admits new people to provisioning within the resolver's bounds: no more
 * than `maxProvisionedUsers` provisioned Users in the catalog, and no more
 * than `maxNewProvisionedUsersPerHour` new people an hour on this replica.
 * People already provisioned are never held back.
 */
export class NewPeopleBound {
  // New people admitted in the last hour, by entity ref; bounded by the hourly bound.
  readonly #admitted = new Map<string, number>();

  constructor(private readonly options: ResolverOptions) {}

  async admit(ctx: AuthResolverContext, userEntityRef: string) {
    const now = clockOf(ctx).now();
    for (const [ref, at] of this.#admitted) {
      if (at <= now - HOUR_MS) {
        this.#admitted.delete(ref);
      }
    }
    if (this.#admitted.has(userEntityRef)) {
      return;
    }
    const maxUsers =
      this.options.maxProvisionedUsers ??
      PROVISIONING_DEFAULTS.maxProvisionedUsers;
    const maxPerHour =
      this.options.maxNewProvisionedUsersPerHour ??
      PROVISIONING_DEFAULTS.maxNewProvisionedUsersPerHour;
    if (this.#admitted.size >= maxPerHour) {
      throw new CloudflareAccessNotAllowedError(
        'provisioning_limit',
        NOT_ALLOWED_DETAILS.provisioning_limit_per_hour(
          userEntityRef,
          maxPerHour,
        ),
      );
    }
    const count = await provisionedUserCount(ctx);
    if (count !== undefined && count >= maxUsers) {
      throw new CloudflareAccessNotAllowedError(
        'provisioning_limit',
        NOT_ALLOWED_DETAILS.provisioning_limit_users(userEntityRef, count),
      );
    }
    this.#admitted.set(userEntityRef, now);
  }
}

/**
 * Refuses a provisioned name that another source holds, or that a User
 * provisioned for another email holds: a sign-in never takes it over.
 * `holder` is the entity already found under the name, if any; otherwise
 * the catalog is asked. Says whether the name is still free.
 */
async function checkNameIsFree(
  ctx: AuthResolverContext,
  userEntityRef: string,
  email: string,
  found?: Entity,
): Promise<'new' | 'provisioned'> {
  let holder = found;
  if (!holder) {
    try {
      holder = (await ctx.findCatalogUser({ entityRef: userEntityRef })).entity;
    } catch (error) {
      if (isNotFound(error)) {
        return 'new';
      }
      throw error;
    }
  }
  const holderEmail = (holder.spec?.profile as { email?: unknown } | undefined)
    ?.email;
  if (
    isCloudflareAccessProvisioned(holder) &&
    typeof holderEmail === 'string' &&
    asciiLowerCase(holderEmail) === asciiLowerCase(email)
  ) {
    return 'provisioned';
  }
  throw new CloudflareAccessNotAllowedError(
    'provisioned_name_taken',
    NOT_ALLOWED_DETAILS.provisioned_name_taken(
      email,
      userEntityRef,
      isCloudflareAccessProvisioned(holder),
    ),
  );
}

/**
 * Signs a person in as the User that provisioning creates for their email,
 * with the ownership their live Access groups give, whether or not the
 * catalog has the User yet: never the catalog's `memberOf`, which lags
 * behind a change and which an event could have written.
 */
export async function issueForProvisioned(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
  userEntityRef: string,
  options: ResolverOptions,
  bounds: NewPeopleBound,
  found?: Entity,
) {
  if (
    (await checkNameIsFree(ctx, userEntityRef, result.claims.email, found)) ===
    'new'
  ) {
    await bounds.admit(ctx, userEntityRef);
  }
  const fromGroups = options.ownershipFromAccessGroups
    ? await accessGroupRefs(ctx, result, options)
    : [];
  const memberOf = [
    ...(await provisionedMemberOf(ctx, result)),
    ...(options.provisionGroups
      ? await provisionedGroupRefs(ctx, result, options)
      : []),
  ];
  return ctx.issueToken({
    claims: {
      sub: userEntityRef,
      ent: [...new Set([userEntityRef, ...memberOf, ...fromGroups])],
    },
  });
}

/**
 * Why a User found for a person is not theirs to sign in as, or undefined
 * when it is: a provisioned User signs in only its own email's person, and
 * only through a resolver that provisions; with `provisionUsers`, a User
 * registered through the catalog API is never taken over a provisioned one.
 */
export async function notTheirs(
  ctx: AuthResolverContext,
  entity: Entity,
  info: Info,
  options: ResolverOptions,
): Promise<string | undefined> {
  const ref = stringifyEntityRef(entity);
  if (isCloudflareAccessProvisioned(entity)) {
    return options.provisionUsers &&
      ref === provisionedUserEntityRef(emailOf(info))
      ? undefined
      : `${ref} is a User provisioned for another person`;
  }
  if (
    options.provisionUsers &&
    (await userSourceOf(entity, ref => registeredLocationOf(ctx, ref))) ===
      'registered'
  ) {
    return `${ref} comes from a location registered through the catalog API, which provisioning never yields to`;
  }
  return undefined;
}
