import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  createSignInResolverFactory,
  SignInInfo,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { CloudflareAccessNotAllowedError, isNotFound } from './errors';
import { CloudflareAccessResult, CloudflareAccessServiceToken } from './types';

/**
 * The User entity annotation that `idMatchingUserEntityAnnotation` matches
 * against the Access user id (the token's `sub`).
 *
 * @public
 */
export const CLOUDFLARE_ACCESS_USER_ID_ANNOTATION = 'cloudflare.com/access-user-id';

const optionsSchema = z
  .object({
    /** Only these email domains may sign in; others get a 403. */
    allowedDomains: z.array(z.string()).optional(),
    /** Only members of at least one of these Access groups (name or id) may sign in. */
    allowedGroups: z.array(z.string()).optional(),
    /** Adds the catalog Groups named like the person's Access groups to their ownership. */
    ownershipFromAccessGroups: z.boolean().optional(),
    /** Signs in people who have no User entity. Dangerous: anyone Access lets through gets in. */
    dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional(),
  })
  .strict()
  .optional();

type ResolverOptions = NonNullable<z.output<typeof optionsSchema>>;

/** How one resolver finds the User for a person. */
type PersonLookup = {
  query: AuthResolverCatalogUserQuery;
  /** The entity name signed in as with `dangerouslyAllowSignInWithoutUserInCatalog`. */
  fallbackName: string;
  /** What no User entity had, and what to add. */
  missing: string;
};

type Info = SignInInfo<CloudflareAccessResult>;

function emailOf(info: Info): string {
  return info.profile.email || info.result.cfIdentity.email || '';
}

function checkAllowed(info: Info, name: string, options: ResolverOptions) {
  const email = emailOf(info);
  const { allowedDomains, allowedGroups } = options;
  if (allowedDomains) {
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (!allowedDomains.some(allowed => allowed.toLowerCase() === domain)) {
      throw new CloudflareAccessNotAllowedError(
        'domain',
        `${email || 'This identity'} is not in an allowed email domain; the ${name} sign-in resolver allows ${allowedDomains.join(', ')} (its allowedDomains option)`,
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
    const member = info.result.cfIdentity.groups.some(
      group =>
        allowedGroups.includes(group.name) || allowedGroups.includes(group.id),
    );
    if (!member) {
      throw new CloudflareAccessNotAllowedError(
        'group',
        `${email} is in none of the Access groups allowed to sign in (${allowedGroups.join(', ')}, the allowedGroups option of the ${name} sign-in resolver); add them to one in your identity provider or Access`,
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

/** The catalog Groups named like the Access groups; Access names that match nothing are skipped. */
async function accessGroupRefs(
  ctx: AuthResolverContext,
  result: CloudflareAccessResult,
): Promise<string[]> {
  const refs = await Promise.all(
    result.cfIdentity.groups.map(async group => {
      try {
        const { entity } = await ctx.findCatalogUser({
          entityRef: { kind: 'Group', namespace: 'default', name: group.name },
        });
        return [stringifyEntityRef(entity)];
      } catch (error) {
        if (isNotFound(error)) {
          return [];
        }
        throw error;
      }
    }),
  );
  return refs.flat();
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
          if (
            !isNotFound(error) ||
            !options.dangerouslyAllowSignInWithoutUserInCatalog
          ) {
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
            ? await accessGroupRefs(ctx, info.result)
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

function requireEmail(info: Info, name: string): string {
  const email = emailOf(info);
  if (!email) {
    throw new CloudflareAccessNotAllowedError(
      'no_email',
      `The Cloudflare Access identity has no email, which the ${name} sign-in resolver needs`,
    );
  }
  return email;
}

/**
 * Available sign-in resolvers for the Cloudflare Access auth provider.
 *
 * Each takes the options `allowedDomains`, `allowedGroups`,
 * `ownershipFromAccessGroups` and `dangerouslyAllowSignInWithoutUserInCatalog`.
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
        const email = requireEmail(info, 'emailMatchingUserEntityProfileEmail');
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
        const email = requireEmail(info, 'emailLocalPartMatchingUserEntityName');
        const localPart = email.slice(0, email.lastIndexOf('@'));
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
          query: { annotations: { [CLOUDFLARE_ACCESS_USER_ID_ANNOTATION]: id } },
          fallbackName: id,
          missing: `No User entity has the annotation ${CLOUDFLARE_ACCESS_USER_ID_ANNOTATION}: ${id} (the Access user id of ${emailOf(info) || 'this identity'}); add it to that person's User entity`,
        };
      },
    );
}
