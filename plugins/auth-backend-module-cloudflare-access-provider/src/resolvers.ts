/** The sign-in resolvers: who a verified Access identity is in the catalog, and what they own. */
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import {
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  CloudflareAccessProvisionedGroup,
  provisionedGroupEntityRef,
  provisionedUserEntityRef,
} from '@cfaccess/plugin-cloudflare-access-node';
import { printable } from './audit';
import {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  createSignInResolverFactory,
  SignInInfo,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { existingEntityRefs } from './catalogLookups';
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
  const wanted = entry.toLowerCase();
  return (
    group.id.toLowerCase() === wanted ||
    (group.email !== '' && group.email.toLowerCase() === wanted) ||
    (byName && group.name === entry)
  );
}

function checkAllowed(info: Info, name: string, options: ResolverOptions) {
  const email = emailOf(info);
  const { allowedDomains, allowedGroups } = options;
  if (allowedDomains) {
    const domain = splitEmail(email)?.domain.toLowerCase();
    if (!allowedDomains.some(allowed => allowed.toLowerCase() === domain)) {
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
): CloudflareAccessProvisionedGroup[] {
  return (result.unmappedAccessGroups ?? [])
    .filter(({ id }) => id.length <= 200)
    .map(({ id, name, email }) => ({
      id,
      name: printable(name, 190),
      ...(email && email.length <= 320 && { email }),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Signs a person in as the User that provisioning creates for their email,
 * with the ownership that User will have, before the catalog has it.
 */
async function issueForProvisioned(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
  userEntityRef: string,
  options: ResolverOptions,
) {
  const fromGroups = options.ownershipFromAccessGroups
    ? await accessGroupRefs(ctx, result, options)
    : [];
  const memberOf = [
    ...(await provisionedMemberOf(ctx, result)),
    ...(options.provisionGroups
      ? provisionedGroups(result).map(group =>
          provisionedGroupEntityRef(group.id),
        )
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
        } catch (error) {
          if (!isNotFound(error)) {
            throw error;
          }
          const provisioned =
            !serviceToken && options.provisionUsers
              ? provisionedUserEntityRef(emailOf(info))
              : undefined;
          if (provisioned) {
            return issueForProvisioned(ctx, info.result, provisioned, options);
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
