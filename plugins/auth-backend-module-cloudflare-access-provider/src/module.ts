import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  commonSignInResolvers,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { createCloudflareAccessAuthenticator } from './authenticator';
import { cloudflareAccessSignInResolvers } from './resolvers';

/**
 * The Cloudflare Access provider backend module for the auth plugin:
 * registers provider `cfaccess`.
 *
 * @public
 */
export const authModuleCloudflareAccessProvider = createBackendModule({
  pluginId: 'auth',
  // The upstream module's id, so the two cannot be installed side by side by mistake.
  moduleId: 'cloudflare-access-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        cache: coreServices.cache,
        logger: coreServices.logger,
      },
      async init({ providers, cache, logger }) {
        providers.registerProvider({
          providerId: 'cfaccess',
          factory: createProxyAuthProviderFactory({
            authenticator: createCloudflareAccessAuthenticator({
              cache,
              logger,
            }),
            // Ours last, so a common resolver of the same name cannot shadow them.
            signInResolverFactories: {
              ...commonSignInResolvers,
              ...cloudflareAccessSignInResolvers,
            },
          }),
        });
      },
    });
  },
});
