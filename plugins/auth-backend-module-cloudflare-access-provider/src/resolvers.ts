/** The sign-in resolvers: who a verified Access identity is in the catalog, and what they own. */
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import {
  accessGroupIdKey,
  asciiLowerCase,
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  CloudflareAccessProvisionedGroup,
  isCloudflareAccessProvisioned,
  isEmailInDomains,
  PROVISIONING_DEFAULTS,
  provisionedGroupEntityRef,
  provisionedUserEntityRef,
  userSourceOf,
} from '@cfaccess/plugin-cloudflare-access-node';
import { printable } from './audit';
import {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  createSignInResolverFactory,
  SignInInfo,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import {
  existingEntities,
  existingEntityRefs,
  provisionedUserCount,
  registeredLocationOf,
} from './catalogLookups';
import { CloudflareAccessNotAllowedError, isNotFound } from './errors';
import {
  CloudflareAccessGroup,
  CloudflareAccessResult,
  CloudflareAccessServiceToken,
} from './types';

export { CLOUDFLARE_ACCESS_USER_ID_ANNOTATION };

/**
 * The options every Cloudflare Access sign-in resolver takes.
 *
 * @public
 */
export type CloudflareAccessSignInResolverOptions = {
  /** Only these email domains may sign in; others get a 403. */
  allowedDomains?: string[];
  /** Only members of at least one of these Access groups (group id or group email) may sign in. */
  allowedGroups?: string[];
  /** Adds the catalog Groups that `accessGroups` maps the person's Access groups to. */
  ownershipFromAccessGroups?: boolean;
  /** Also matches Access groups by display name, which in many identity providers anyone can choose. */
  dangerouslyMatchAccessGroupsByName?: boolean;
  /** Signs in people who have no User entity. Dangerous: anyone Access lets through gets in. */
  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
  /**
   * Signs in a person with no User entity as the User the Cloudflare Access
   * catalog module provisions for them. Needs `allowedDomains`.
   */
  provisionUsers?: boolean;
  /**
   * With `provisionUsers`: the person's Access groups that `accessGroups`
   * maps to nothing become Groups named by their id
   * (`group:default/access-group-<id>`), which the User is a member of.
   */
  provisionGroups?: boolean;
  /** With `provisionUsers`: no new person is provisioned past this many provisioned Users (default 10000). */
  maxProvisionedUsers?: number;
  /** With `provisionUsers`: at most this many new people an hour, per replica (default 100). */
  maxNewProvisionedUsersPerHour?: number;
  /** With `provisionGroups`: at most this many Groups provisioned for one person, the first by id (default 50). */
  maxProvisionedGroupsPerUser?: number;
};

type ResolverOptions = CloudflareAccessSignInResolverOptions;

// The type is written out above so that the public API does not depend on how zod's inference prints.
const optionsSchema: z.ZodType<ResolverOptions | undefined> = z
  .object({
    allowedDomains: z.array(z.string()).optional(),
    allowedGroups: z.array(z.string()).optional(),
    ownershipFromAccessGroups: z.boolean().optional(),
    dangerouslyMatchAccessGroupsByName: z.boolean().optional(),
    dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional(),
    provisionUsers: z.boolean().optional(),
    provisionGroups: z.boolean().optional(),
    maxProvisionedUsers: z.number().int().min(0).optional(),
    maxNewProvisionedUsersPerHour: z.number().int().min(0).optional(),
    maxProvisionedGroupsPerUser: z.number().int().min(0).optional(),
  })
  .strict()
  .optional();

/** How one resolver finds the User for a person. */
type PersonLookup = {
  query: AuthResolverCatalogUserQuery;
  /** The entity name signed in as with `dangerouslyAllowSignInWithoutUserInCatalog`. */
  fallbackName: string;
  /** What no User entity had, and what to add. */
  missing: string;
};

type Info = SignInInfo<CloudflareAccessResult>;

// A catalog entity name, as the catalog model allows it.
const ENTITY_NAME = /^[a-z0-9A-Z]([a-z0-9A-Z_.-]{0,61}[a-z0-9A-Z])?$/;

function emailOf(info: Info): string {
  return info.profile.email || info.result.cfIdentity.email || '';
}

/** An email's two parts, when it has exactly one `@` with something on each side. */
export function splitEmail(
  email: string,
): { localPart: string; domain: string } | undefined {
  const parts = email.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return undefined;
  }
  return { localPart: parts[0], domain: parts[1] };
}

/** Whether an entry of `allowedGroups` names this group: by id or group email, by name only when asked to. */
function isGroup(group: CloudflareAccessGroup, entry: string, byName: boolean) {
  return (
    accessGroupIdKey(group.id) === accessGroupIdKey(entry) ||
    (group.email !== '' &&
      asciiLowerCase(group.email) === asciiLowerCase(entry)) ||
    (byName && group.name === entry)
  );
}

function checkAllowed(info: Info, name: string, options: ResolverOptions) {
  const email = emailOf(info);
  const { allowedDomains, allowedGroups } = options;
  if (allowedDomains) {
    if (!isEmailInDomains(email, allowedDomains)) {
      throw new CloudflareAccessNotAllowedError(
        'domain',
        `${
          email || 'This identity'
        } is not in an allowed email domain; the ${name} sign-in resolver allows ${allowedDomains.join(
          ', ',
        )} (its allowedDomains option)`,
      );
    }
  }
  if (allowedGroups) {
    if (info.result.degraded) {
      throw new CloudflareAccessNotAllowedError(
        'groups_unavailable',
        `The Access groups of ${email} could not be read from Cloudflare Access right now, and the ${name} sign-in resolver only allows members of some groups (allowedGroups); try again shortly`,
      );
    }
    const byName = options.dangerouslyMatchAccessGroupsByName ?? false;
    const member = info.result.cfIdentity.groups.some(group =>
      allowedGroups.some(entry => isGroup(group, entry, byName)),
    );
    if (!member) {
      throw new CloudflareAccessNotAllowedError(
        'group',
        `${email} is in none of the Access groups allowed to sign in (${allowedGroups.join(
          ', ',
        )}, the allowedGroups option of the ${name} sign-in resolver); add them to one in your identity provider or Access`,
      );
    }
  }
}

async function findUser(
  ctx: AuthResolverContext,
  lookup: PersonLookup,
): Promise<Entity> {
  try {
    return (await ctx.findCatalogUser(lookup.query)).entity;
  } catch (error) {
    if (isNotFound(error)) {
      throw new NotFoundError(lookup.missing);
    }
    throw error;
  }
}

/**
 * The catalog Groups the person's Access groups stand for: those `accessGroups`
 * maps them to by id, and with `dangerouslyMatchAccessGroupsByName` those
 * named like them. Only Groups that exist in the catalog count.
 */
async function accessGroupRefs(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
  options: ResolverOptions,
): Promise<string[]> {
  const byName = options.dangerouslyMatchAccessGroupsByName
    ? result.cfIdentity.groups
        .filter(group => ENTITY_NAME.test(group.name))
        .map(group => `group:default/${group.name.toLowerCase()}`)
    : [];
  const candidates = [
    ...new Set([...(result.accessGroupEntityRefs ?? []), ...byName]),
  ];
  return candidates.length > 0 ? existingEntityRefs(ctx, candidates) : [];
}

function serviceTokenLookup(
  serviceToken: CloudflareAccessServiceToken,
): PersonLookup {
  const { subject, token } = serviceToken;
  if (subject.includes('@')) {
    return {
      query: { filter: { 'spec.profile.email': subject } },
      fallbackName: subject,
      missing: `No User entity has spec.profile.email ${subject}, the subject of service token ${token}; add one to the catalog or change serviceTokens[].subject`,
    };
  }
  return {
    query: { entityRef: subject },
    fallbackName: subject,
    missing: `No entity ${subject}, the subject of service token ${token}, is in the catalog; add it or change serviceTokens[].subject`,
  };
}

/** Signs in as the entity found, with its catalog ownership unless something pins it. */
async function issueFor(
  ctx: AuthResolverContext,
  entity: Entity,
  extraOwnership: string[],
  pinnedOwnership?: string[],
) {
  const ownership =
    pinnedOwnership ??
    (await ctx.resolveOwnershipEntityRefs(entity)).ownershipEntityRefs;
  return ctx.issueToken({
    claims: {
      sub: stringifyEntityRef(entity),
      ent: [...new Set([...ownership, ...extraOwnership])],
    },
  });
}

/**
 * The Groups a provisioned User is a member of: those `accessGroups` maps the
 * person's Access groups to, when they exist in the catalog.
 */
export async function provisionedMemberOf(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
): Promise<string[]> {
  const mapped = result.accessGroupEntityRefs ?? [];
  return mapped.length > 0 ? existingEntityRefs(ctx, mapped) : [];
}

/**
 * The Access groups `provisionGroups` keeps as Groups: those `accessGroups`
 * maps to nothing, within the person-seen event's bounds (an oversized id or
 * email left out, the title made printable and cut), sorted by id. The
 * ownership issued and the event announced both come from this one list.
 */
export function provisionedGroups(
  result: CloudflareAccessResult,
  options: ResolverOptions,
): CloudflareAccessProvisionedGroup[] {
  return (result.unmappedAccessGroups ?? [])
    .filter(({ id }) => id.length <= 200)
    .map(({ id, name, email }) => ({
      id,
      name: printable(name, 190),
      ...(email && email.length <= 320 && { email }),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(
      0,
      options.maxProvisionedGroupsPerUser ??
        PROVISIONING_DEFAULTS.maxProvisionedGroupsPerUser,
    );
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Admits new people to provisioning within the resolver's bounds: no more
 * than `maxProvisionedUsers` provisioned Users in the catalog, and no more
 * than `maxNewProvisionedUsersPerHour` new people an hour on this replica.
 * People already provisioned are never held back.
 */
class NewPeopleBound {
  // New people admitted in the last hour, by entity ref; bounded by the hourly bound.
  readonly #admitted = new Map<string, number>();

  constructor(private readonly options: ResolverOptions) {}

  async admit(ctx: AuthResolverContext, userEntityRef: string) {
    const now = Date.now();
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
        `${userEntityRef} is not provisioned: ${maxPerHour} new people were provisioned in the last hour, the resolver's maxNewProvisionedUsersPerHour; try again later`,
      );
    }
    const count = await provisionedUserCount(ctx);
    if (count !== undefined && count >= maxUsers) {
      throw new CloudflareAccessNotAllowedError(
        'provisioning_limit',
        `${userEntityRef} is not provisioned: ${count} Users are provisioned, the resolver's maxProvisionedUsers; raise it or remove Users`,
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
    `${email} would be provisioned as ${userEntityRef}, which ${
      isCloudflareAccessProvisioned(holder)
        ? 'is provisioned for another email'
        : 'an entity of another source holds'
    }; give this person a User entity of their own, or rename the other`,
  );
}

/**
 * The Groups `provisionGroups` grants for the person's unmapped Access
 * groups: each Group is the provisioned one, or not in the catalog yet; one
 * of another source with the same name is never granted.
 */
async function provisionedGroupRefs(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
  options: ResolverOptions,
): Promise<string[]> {
  const refs = provisionedGroups(result, options).map(group =>
    provisionedGroupEntityRef(group.id),
  );
  if (refs.length === 0) {
    return [];
  }
  const heldElsewhere = new Set(
    (await existingEntities(ctx, refs))
      .filter(({ provisioned }) => !provisioned)
      .map(({ entityRef }) => entityRef),
  );
  return refs.filter(ref => !heldElsewhere.has(ref));
}

/**
 * Signs a person in as the User that provisioning creates for their email,
 * with the ownership their live Access groups give, whether or not the
 * catalog has the User yet: never the catalog's `memberOf`, which lags
 * behind a change and which an event could have written.
 */
async function issueForProvisioned(
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
async function notTheirs(
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

/**
 * One resolver: service tokens sign in as their configured subject; people
 * pass the options' checks, then are looked up the way this resolver does.
 */
function createAccessSignInResolverFactory(
  name: string,
  lookupPerson: (info: Info) => PersonLookup,
) {
  return createSignInResolverFactory({
    optionsSchema,
    create(options = {}) {
      const bounds = new NewPeopleBound(options);
      return async (info: Info, ctx) => {
        const { serviceToken } = info.result;
        if (!serviceToken) {
          checkAllowed(info, name, options);
        }
        const lookup = serviceToken
          ? serviceTokenLookup(serviceToken)
          : lookupPerson(info);
        let entity: Entity;
        try {
          entity = await findUser(ctx, lookup);
          const refused = serviceToken
            ? undefined
            : await notTheirs(ctx, entity, info, options);
          if (refused) {
            throw new NotFoundError(`${lookup.missing} (${refused})`);
          }
        } catch (error) {
          if (!isNotFound(error)) {
            throw error;
          }
          const provisioned =
            !serviceToken && options.provisionUsers
              ? provisionedUserEntityRef(emailOf(info))
              : undefined;
          if (provisioned) {
            return issueForProvisioned(
              ctx,
              info.result,
              provisioned,
              options,
              bounds,
            );
          }
          if (!options.dangerouslyAllowSignInWithoutUserInCatalog) {
            throw error;
          }
          const fallback = stringifyEntityRef({
            kind: 'User',
            namespace: 'default',
            name: lookup.fallbackName,
          });
          return ctx.issueToken({
            claims: {
              sub: fallback,
              ent: serviceToken?.ownershipEntityRefs ?? [fallback],
            },
          });
        }
        if (!serviceToken && isCloudflareAccessProvisioned(entity)) {
          return issueForProvisioned(
            ctx,
            info.result,
            stringifyEntityRef(entity),
            options,
            bounds,
            entity,
          );
        }
        // Service tokens never get Access groups: their ownership is their subject's or pinned.
        const fromGroups =
          !serviceToken && options.ownershipFromAccessGroups
            ? await accessGroupRefs(ctx, info.result, options)
            : [];
        return issueFor(
          ctx,
          entity,
          fromGroups,
          serviceToken?.ownershipEntityRefs,
        );
      };
    },
  });
}

function requireEmail(info: Info, name: string) {
  const email = emailOf(info);
  const parts = splitEmail(email);
  if (!parts) {
    throw new CloudflareAccessNotAllowedError(
      'no_email',
      `The Cloudflare Access identity has no usable email (one @ with a local part and a domain), which the ${name} sign-in resolver needs`,
    );
  }
  return { email, ...parts };
}

/**
 * Available sign-in resolvers for the Cloudflare Access auth provider.
 *
 * Each takes the options `allowedDomains`, `allowedGroups`,
 * `ownershipFromAccessGroups`, `dangerouslyMatchAccessGroupsByName`,
 * `provisionUsers` and `dangerouslyAllowSignInWithoutUserInCatalog`.
 * Service tokens sign in as their configured `subject` with every resolver.
 *
 * @public
 */
export namespace cloudflareAccessSignInResolvers {
  /**
   * Looks up the user by matching their email to the entity's `spec.profile.email`.
   */
  export const emailMatchingUserEntityProfileEmail =
    createAccessSignInResolverFactory(
      'emailMatchingUserEntityProfileEmail',
      info => {
        const { email } = requireEmail(
          info,
          'emailMatchingUserEntityProfileEmail',
        );
        return {
          query: { filter: { 'spec.profile.email': email } },
          fallbackName: email,
          missing: `No User entity has spec.profile.email ${email}; add a User entity with spec.profile.email ${email} to the catalog`,
        };
      },
    );

  /**
   * Looks up the user by matching the local part of their email to the entity's name.
   */
  export const emailLocalPartMatchingUserEntityName =
    createAccessSignInResolverFactory(
      'emailLocalPartMatchingUserEntityName',
      info => {
        const { email, localPart } = requireEmail(
          info,
          'emailLocalPartMatchingUserEntityName',
        );
        if (!ENTITY_NAME.test(localPart)) {
          throw new NotFoundError(
            `The local part of ${email} is not a valid entity name, so no User entity can be named after it`,
          );
        }
        return {
          query: { entityRef: { name: localPart } },
          fallbackName: localPart,
          missing: `No User entity is named ${localPart} (the local part of ${email}); add a User entity with metadata.name ${localPart} to the catalog`,
        };
      },
    );

  /**
   * Looks up the user by matching the Access user id (`sub`) to the entity's
   * `cloudflare.com/access-user-id` annotation.
   */
  export const idMatchingUserEntityAnnotation =
    createAccessSignInResolverFactory(
      'idMatchingUserEntityAnnotation',
      info => {
        const id = info.result.claims.sub;
        return {
          query: {
            annotations: { [CLOUDFLARE_ACCESS_USER_ID_ANNOTATION]: id },
          },
          fallbackName: id,
          missing: `No User entity has the annotation ${CLOUDFLARE_ACCESS_USER_ID_ANNOTATION}: ${id} (the Access user id of ${
            emailOf(info) || 'this identity'
          }); add it to that person's User entity`,
        };
      },
    );
}
