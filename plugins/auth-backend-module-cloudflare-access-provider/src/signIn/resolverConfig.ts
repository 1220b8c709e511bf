/** `signIn.resolvers` read and checked: each entry's resolver built with its options. */
import { Config } from '@backstage/config';
import {
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { CloudflareAccessConfig } from '../config';
import { cloudflareAccessConfigError } from '@cfaccess/plugin-cloudflare-access-node';
import { CloudflareAccessResult } from '../types';
import { CloudflareAccessSignInResolverOptions } from './options';

/** A configured resolver, ready to try. */
export type ConfiguredResolver = {
  name: string;
  resolver: SignInResolver<CloudflareAccessResult>;
  /** Whether it signs in people with no User entity as their provisioned User. */
  provisions: boolean;
  options: CloudflareAccessSignInResolverOptions;
};

/** Reads `signIn.resolvers` in order; a clear start-up error for any entry that cannot work. */
export function readResolvers(
  config: Config,
  factories: Record<string, SignInResolverFactory<any, any>>,
  accessConfig: CloudflareAccessConfig,
): ConfiguredResolver[] {
  const entries = config.getOptionalConfigArray('signIn.resolvers') ?? [];
  if (entries.length === 0) {
    throw cloudflareAccessConfigError(
      'signIn.resolvers',
      'is missing',
      'Add at least one, e.g. - resolver: emailMatchingUserEntityProfileEmail',
    );
  }
  return entries.map((entry, index) => {
    const key = `signIn.resolvers[${index}]`;
    const name = entry.getString('resolver');
    if (!Object.hasOwn(factories, name)) {
      throw cloudflareAccessConfigError(
        `${key}.resolver`,
        `is '${name}': sign-in resolver '${name}' is not available; use one of ${Object.keys(
          factories,
        ).join(', ')}`,
        'A resolver of your own needs a provider of your own (see Custom resolvers in the README)',
      );
    }
    const { resolver: _name, ...options } = entry.get<{
      resolver: string;
      ownershipFromAccessGroups?: unknown;
      dangerouslyMatchAccessGroupsByName?: unknown;
      provisionUsers?: unknown;
      provisionGroups?: unknown;
      allowedDomains?: unknown;
    }>();
    const provisions = options.provisionUsers === true;
    if (options.provisionGroups === true && !provisions) {
      throw cloudflareAccessConfigError(
        `${key}.provisionGroups`,
        'keeps Groups for provisioned Users only',
        'Add provisionUsers: true (and allowedDomains) to that resolver, or remove provisionGroups',
      );
    }
    if (
      provisions &&
      !(Array.isArray(options.allowedDomains) && options.allowedDomains.length)
    ) {
      throw cloudflareAccessConfigError(
        `${key}.provisionUsers`,
        `signs in anyone Access lets through who has no User entity, so it needs auth.providers.cfaccess.${key}.allowedDomains`,
        'Set it to the email domains whose people may be provisioned, e.g. allowedDomains: [example.com]',
      );
    }
    if (
      options.ownershipFromAccessGroups === true &&
      options.dangerouslyMatchAccessGroupsByName !== true &&
      accessConfig.accessGroups.size === 0
    ) {
      throw cloudflareAccessConfigError(
        `${key}.ownershipFromAccessGroups`,
        'grants the catalog Groups that auth.providers.cfaccess.accessGroups maps Access group ids to, and accessGroups is empty',
        'Map each Access group to its Group: accessGroups: [{ id: <Access group id or group email>, entityRef: group:default/<name> }]. Groups are no longer matched by name, which anyone who can create a group in the identity provider could choose (see the migration guide)',
      );
    }
    const resolver = factories[name](
      Object.keys(options).length > 0 ? options : undefined,
    ) as SignInResolver<CloudflareAccessResult>;
    return {
      name,
      resolver,
      provisions,
      options: options as CloudflareAccessSignInResolverOptions,
    };
  });
}
