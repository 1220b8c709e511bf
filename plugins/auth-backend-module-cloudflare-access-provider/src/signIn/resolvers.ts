/** The sign-in resolvers: who a verified Access identity is in the catalog, and what they own. */
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import {
  CLOUDFLARE_ACCESS_USER_ID_ANNOTATION,
  isCloudflareAccessProvisioned,
  provisionedUserEntityRef,
} from '@cfaccess/plugin-cloudflare-access-node';
import {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  createSignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { isNotFound } from '../errors';
import { CloudflareAccessServiceToken } from '../types';
import { accessGroupRefs } from './groups';
import { optionsSchema } from './options';
import {
  checkAllowed,
  emailOf,
  ENTITY_NAME,
  Info,
  requireEmail,
} from './policy';
import { issueForProvisioned, NewPeopleBound, notTheirs } from './provisioning';

export { CLOUDFLARE_ACCESS_USER_ID_ANNOTATION };

/** How one resolver finds the User for a person. */
type PersonLookup = {
  query: AuthResolverCatalogUserQuery;
  /** The entity name signed in as with `dangerouslyAllowSignInWithoutUserInCatalog`. */
  fallbackName: string;
  /** What no User entity had, and what to add. */
  missing: string;
};

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
