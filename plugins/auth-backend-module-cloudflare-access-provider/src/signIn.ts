import { CacheService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  AuthResolverContext,
  BackstageSignInResult,
  SignInInfo,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { decodeJwt } from 'jose';
import { SignInAudit } from './audit';
import { CatalogUserRefFinder, catalogLookups } from './catalogAnswers';
import { CloudflareAccessNotAllowedError, isNotFound } from './errors';
import { sessionCacheKey } from './identity';
import { CloudflareAccessResult } from './types';

/** A resolved sign-in as the cache service stores it (JSON). */
type CachedSignIn = {
  token: string;
  identity?: {
    type: 'user';
    userEntityRef: string;
    ownershipEntityRefs: string[];
  };
};

// A reused Backstage token keeps at least this long to live, so the browser never gets a spent one.
const MIN_TOKEN_LIFE_MS = 5 * 60 * 1000;

/**
 * Reads `signIn.resolvers` and tries them in order, as Backstage does, but
 * ends in a 403 that says what each resolver looked for instead of a 500.
 */
export function readCloudflareAccessSignInResolver(options: {
  config: Config;
  factories: Record<string, SignInResolverFactory<any, any>>;
  findUserRefs?: CatalogUserRefFinder;
  /** Reuses a resolved sign-in for the same Access session this long; 0 disables. */
  signInCacheSeconds: number;
  cache?: CacheService;
  audit: SignInAudit;
}): SignInResolver<CloudflareAccessResult> {
  const { config, factories, findUserRefs, signInCacheSeconds, cache, audit } =
    options;
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

  const resolve = async (
    info: SignInInfo<CloudflareAccessResult>,
    ctx: AuthResolverContext,
  ): Promise<BackstageSignInResult> => {
    const misses: string[] = [];
    for (const { name, resolver } of resolvers) {
      try {
        return await resolver(info, ctx);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        misses.push(`${name}: ${(error as Error).message}`);
      }
    }
    throw new CloudflareAccessNotAllowedError(
      'no_user',
      `${subjectOf(info)} passed Cloudflare Access but is not a Backstage user. ${misses.join(
        '. ',
      )}. Add a User entity that one of the configured sign-in resolvers matches`,
    );
  };

  const reuseMs = cache ? signInCacheSeconds * 1000 : 0;
  return async (info, ctx) => {
    if (!cache || reuseMs <= 0) {
      const lookups = catalogLookups(ctx, { findUserRefs });
      return (await resolveAudited(info, lookups.ctx)).result;
    }
    const key = sessionCacheKey('sign-in', info.result.claims);
    const reused = await cache.get<CachedSignIn>(key);
    if (reused) {
      return reused;
    }
    const answers = catalogLookups(ctx, {
      findUserRefs,
      reuse: { cache, ttlMs: reuseMs },
    });
    const { result, exp } = await resolveAudited(info, answers.ctx);
    // A sign-in built on an older catalog answer is reused for less, so a removed User is out within reuseMs.
    const answerAge = Date.now() - (answers.oldestAnswerAt() ?? Date.now());
    const ttl = Math.min(
      reuseMs - answerAge,
      (exp ?? 0) * 1000 - Date.now() - MIN_TOKEN_LIFE_MS,
    );
    if (ttl > 0) {
      // The identity carries the ownership when the token omits it (auth.omitIdentityTokenOwnershipClaim).
      const entry: CachedSignIn = { token: result.token };
      if (result.identity) {
        entry.identity = { ...result.identity };
      }
      await cache.set(key, entry, { ttl });
    }
    return result;
  };

  async function resolveAudited(
    info: SignInInfo<CloudflareAccessResult>,
    ctx: AuthResolverContext,
  ): Promise<{ result: BackstageSignInResult; exp?: number }> {
    let result: BackstageSignInResult;
    try {
      result = await resolve(info, ctx);
    } catch (error) {
      await audit({
        subject: subjectOf(info),
        reason:
          error instanceof CloudflareAccessNotAllowedError
            ? error.reason
            : 'error',
        error: error as Error,
      });
      throw error;
    }
    const { sub, exp } = decodeJwt(result.token);
    await audit({ subject: sub ?? subjectOf(info) });
    return { result, exp };
  }
}

function subjectOf(info: SignInInfo<CloudflareAccessResult>): string {
  return (
    info.result.serviceToken?.token ??
    (info.profile.email || info.result.claims.sub)
  );
}
