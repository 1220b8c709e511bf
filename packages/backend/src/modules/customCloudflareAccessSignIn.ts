import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { createCloudflareAccessAuthenticator } from '@cfaccess/plugin-auth-backend-module-cloudflare-access-provider';

/** Access groups named `team-<name>` stand for the catalog Group `<name>`. */
const TEAM_PREFIX = 'team-';

/**
 * An example of a custom sign-in resolver for Cloudflare Access: write one
 * when the built-in resolvers cannot express your mapping. This one signs a
 * person in by email and makes them an owner of the catalog Groups their
 * `team-*` Access groups name. It registers its own provider id,
 * `cfaccess-custom`, beside the module's `cfaccess`; to replace the built-in
 * resolvers instead, register `cfaccess` here and do not add the module.
 */
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
              const teams = result.cfIdentity.groups
                .filter(group => group.name.startsWith(TEAM_PREFIX))
                .map(
                  group =>
                    `group:default/${group.name.slice(TEAM_PREFIX.length)}`,
                );
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
