/** The options every sign-in resolver takes, and their schema. */
import { z } from 'zod/v3';

/**
 * The options every Cloudflare Access sign-in resolver takes, as an entry of
 * `auth.providers.cfaccess.signIn.resolvers` sets them. Each is documented
 * once, in the module's `config.d.ts`, which is what operators read.
 *
 * @public
 */
export type CloudflareAccessSignInResolverOptions = {
  allowedDomains?: string[];
  allowedGroups?: string[];
  ownershipFromAccessGroups?: boolean;
  dangerouslyMatchAccessGroupsByName?: boolean;
  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
  provisionUsers?: boolean;
  provisionGroups?: boolean;
  maxProvisionedUsers?: number;
  maxNewProvisionedUsersPerHour?: number;
  maxProvisionedGroupsPerUser?: number;
};

export type ResolverOptions = CloudflareAccessSignInResolverOptions;

// The type is written out above so that the public API does not depend on how zod's inference prints.
export const optionsSchema: z.ZodType<ResolverOptions | undefined> = z
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
