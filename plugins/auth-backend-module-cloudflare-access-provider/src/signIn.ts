import { Config } from '@backstage/config';
import {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  SignInInfo,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { CloudflareAccessNotAllowedError, isConflict, isNotFound } from './errors';
import { CloudflareAccessResult } from './types';

/** Lists the entity refs a catalog user query matches, to name them when it matches several. */
export type CatalogUserRefFinder = (
  query: AuthResolverCatalogUserQuery,
) => Promise<string[]>;

function describeQuery(query: AuthResolverCatalogUserQuery): string {
  if ('filter' in query) {
    return JSON.stringify(query.filter);
  }
  if ('annotations' in query) {
    return JSON.stringify(query.annotations);
  }
  return JSON.stringify(query.entityRef);
}

/** Turns "several Users match" into a 403 that names them, whichever resolver asked. */
function withAmbiguityExplained(
  ctx: AuthResolverContext,
  findUserRefs?: CatalogUserRefFinder,
): AuthResolverContext {
  const explain = async (
    query: AuthResolverCatalogUserQuery,
    error: unknown,
  ): Promise<never> => {
    if (!isConflict(error)) {
      throw error;
    }
    const refs = (await findUserRefs?.(query)) ?? [];
    throw new CloudflareAccessNotAllowedError(
      'ambiguous',
      `${
        refs.length > 1 ? refs.join(' and ') : 'Several User entities'
      } all match ${describeQuery(
        query,
      )}, so the sign-in cannot tell which one this person is; make exactly one User entity match`,
    );
  };
  return {
    issueToken: params => ctx.issueToken(params),
    resolveOwnershipEntityRefs: entity => ctx.resolveOwnershipEntityRefs(entity),
    findCatalogUser: query =>
      ctx.findCatalogUser(query).catch(error => explain(query, error)),
    signInWithCatalogUser: (query, options) =>
      ctx
        .signInWithCatalogUser(query, options)
        .catch(error => explain(query, error)),
  };
}

/**
 * Reads `signIn.resolvers` and tries them in order, as Backstage does, but
 * ends in a 403 that says what each resolver looked for instead of a 500.
 */
export function readCloudflareAccessSignInResolver(options: {
  config: Config;
  factories: Record<string, SignInResolverFactory<any, any>>;
  findUserRefs?: CatalogUserRefFinder;
}): SignInResolver<CloudflareAccessResult> {
  const { config, factories, findUserRefs } = options;
  const entries = config.getOptionalConfigArray('signIn.resolvers') ?? [];
  if (entries.length === 0) {
    throw new Error(
      `Invalid Cloudflare Access config: auth.providers.cfaccess.signIn.resolvers is missing. Add at least one, e.g. - resolver: emailMatchingUserEntityProfileEmail`,
    );
  }
  const resolvers = entries.map(entry => {
    const name = entry.getString('resolver');
    if (!Object.hasOwn(factories, name)) {
      throw new Error(
        `Invalid Cloudflare Access config: sign-in resolver '${name}' is not available; use one of ${Object.keys(
          factories,
        ).join(', ')}`,
      );
    }
    const { resolver: _name, ...resolverOptions } = entry.get<{
      resolver: string;
    }>();
    const resolver = factories[name](
      Object.keys(resolverOptions).length > 0 ? resolverOptions : undefined,
    ) as SignInResolver<CloudflareAccessResult>;
    return { name, resolver };
  });

  return async (info: SignInInfo<CloudflareAccessResult>, ctx) => {
    const guarded = withAmbiguityExplained(ctx, findUserRefs);
    const misses: string[] = [];
    for (const { name, resolver } of resolvers) {
      try {
        return await resolver(info, guarded);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        misses.push(`${name}: ${(error as Error).message}`);
      }
    }
    const who =
      info.result.serviceToken?.token ??
      (info.profile.email || info.result.claims.sub);
    throw new CloudflareAccessNotAllowedError(
      'no_user',
      `${who} passed Cloudflare Access but is not a Backstage user. ${misses.join(
        '. ',
      )}. Add a User entity that one of the configured sign-in resolvers matches`,
    );
  };
}
