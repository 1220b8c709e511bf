import { createSignInResolverFactory } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { CloudflareAccessResult } from './types';

/**
 * Available sign-in resolvers for the Cloudflare Access auth provider.
 *
 * @public
 */
export namespace cloudflareAccessSignInResolvers {
  /**
   * Looks up the user by matching their email to the entity email.
   */
  export const emailMatchingUserEntityProfileEmail =
    createSignInResolverFactory({
      optionsSchema: z
        .object({
          dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional(),
        })
        .optional(),
      create(options = {}) {
        return async (info: { result: CloudflareAccessResult; profile: { email?: string } }, ctx) => {
          const email = info.profile.email;
          if (!email) {
            throw new Error('The Cloudflare Access identity has no email');
          }
          return ctx.signInWithCatalogUser(
            { filter: { 'spec.profile.email': email } },
            {
              dangerousEntityRefFallback:
                options.dangerouslyAllowSignInWithoutUserInCatalog
                  ? { entityRef: { name: email } }
                  : undefined,
            },
          );
        };
      },
    });
}
