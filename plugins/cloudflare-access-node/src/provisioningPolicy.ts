/** Who may be provisioned and within which bounds, read from the auth provider's sign-in resolvers for both modules. */
import { Config } from '@backstage/config';
import { readCloudflareAccessGroups } from './accessGroups';
import { asciiLowerCase } from './identityRules';

/**
 * The bounds that apply when a resolver does not set its own.
 *
 * @public
 */
export const PROVISIONING_DEFAULTS = {
  maxProvisionedUsers: 10_000,
  maxNewProvisionedUsersPerHour: 100,
  maxProvisionedGroupsPerUser: 50,
};

/**
 * What the resolvers with `provisionUsers` allow, together: the email
 * domains, whether unmapped Access groups become Groups, and the bounds (the
 * smallest any of them sets).
 *
 * @public
 */
export type CloudflareAccessProvisioningPolicy = {
  /** ASCII lower case. */
  allowedDomains: string[];
  provisionGroups: boolean;
  /** Group refs by Access group id key or group email (ASCII lower case), from `accessGroups`. */
  accessGroups: Map<string, string[]>;
  maxProvisionedUsers: number;
  maxNewProvisionedUsersPerHour: number;
  maxProvisionedGroupsPerUser: number;
};

/**
 * The provisioning policy of `auth.providers.cfaccess` in the root config,
 * or undefined when no resolver provisions. `accessGroups` is read as the
 * auth module reads it (and throws the same errors); the other values are
 * read as they are: the auth module validates them at its start, with
 * messages naming the key.
 *
 * @public
 */
export function readCloudflareAccessProvisioningPolicy(
  rootConfig: Config,
): CloudflareAccessProvisioningPolicy | undefined {
  const provider = rootConfig.getOptionalConfig('auth.providers.cfaccess');
  const resolvers = (
    provider?.getOptionalConfigArray('signIn.resolvers') ?? []
  ).filter(resolver => resolver.getOptionalBoolean('provisionUsers'));
  if (!provider || resolvers.length === 0) {
    return undefined;
  }
  const smallest = (key: keyof typeof PROVISIONING_DEFAULTS) =>
    Math.min(
      ...resolvers.map(
        resolver =>
          resolver.getOptionalNumber(key) ?? PROVISIONING_DEFAULTS[key],
      ),
    );
  const accessGroups = readCloudflareAccessGroups(provider);
  return {
    allowedDomains: [
      ...new Set(
        resolvers.flatMap(resolver =>
          (resolver.getOptionalStringArray('allowedDomains') ?? []).map(
            domain => asciiLowerCase(domain.trim()),
          ),
        ),
      ),
    ],
    provisionGroups: resolvers.some(resolver =>
      resolver.getOptionalBoolean('provisionGroups'),
    ),
    accessGroups,
    maxProvisionedUsers: smallest('maxProvisionedUsers'),
    maxNewProvisionedUsersPerHour: smallest('maxNewProvisionedUsersPerHour'),
    maxProvisionedGroupsPerUser: smallest('maxProvisionedGroupsPerUser'),
  };
}
