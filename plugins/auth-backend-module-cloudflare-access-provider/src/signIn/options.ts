/** The options every sign-in resolver takes, and their schema. */
import { z } from 'zod/v3';

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
