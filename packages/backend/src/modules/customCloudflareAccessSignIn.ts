import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthResolverContext,
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { createCloudflareAccessAuthenticator } from '@cfaccess/plugin-auth-backend-module-cloudflare-access-provider';

/**
 * An example of a custom sign-in resolver for Cloudflare Access: write one
 * when the built-in resolvers cannot express your mapping. This one signs a
 * person in by email and, unless the identity is degraded, makes them an
 * owner of the catalog Groups that `accessGroups` maps their Access group ids
 * to, once it has checked that each exists. It registers its own provider id,
 * `cfaccess-custom`, beside the module's `cfaccess`; to replace the built-in
 * resolvers instead, register `cfaccess` here and do not add the module.
 */
/** The Groups among `refs` that are in the catalog: a mapping may name one since removed. */
async function existingGroups(
  ctx: AuthResolverContext,
  refs: string[],
): Promise<string[]> {
  const found = await Promise.all(
    refs.map(entityRef =>
      ctx.findCatalogUser({ entityRef }).then(
        ({ entity }) => [stringifyEntityRef(entity)],
        (error: Error) => {
          if (error.name === 'NotFoundError') {
            return [];
          }
          throw error;
        },
      ),
    ),
  );
  return found.flat();
}

export const customCloudflareAccessSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'cfaccess-custom-sign-in',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        cache: coreServices.cache,
        logger: coreServices.logger,
      },
      async init({ providers, cache, logger }) {
        providers.registerProvider({
          providerId: 'cfaccess-custom',
          factory: createProxyAuthProviderFactory({
            authenticator: createCloudflareAccessAuthenticator({
              cache,
              logger,
            }),
            async signInResolver({ profile, result }, ctx) {
              // result.claims: the verified token claims; result.cfIdentity: the
              // Access identity with its groups; result.serviceToken: set for
              // service tokens; result.degraded: groups could not be read.
              const email = result.serviceToken?.subject ?? profile.email;
              if (!email) {
                throw new Error('This Access identity has no email');
              }
              const { entity } = await ctx.findCatalogUser({
                filter: { 'spec.profile.email': email },
              });
              const { ownershipEntityRefs } =
                await ctx.resolveOwnershipEntityRefs(entity);
              // Mapped by Access group id in config, never by a group name anyone could choose.
              const mapped = result.degraded
                ? []
                : result.accessGroupEntityRefs ?? [];
              const teams = await existingGroups(ctx, mapped);
              return ctx.issueToken({
                claims: {
                  sub: stringifyEntityRef(entity),
                  ent: [...new Set([...ownershipEntityRefs, ...teams])],
                },
              });
            },
          }),
        });
      },
    });
  },
});
