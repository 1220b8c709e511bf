/** The sign-in resolver chain: tries the configured resolvers in order, reuses a session's sign-in, audits. */
import { CacheService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  AuthResolverContext,
  BackstageSignInResult,
  SignInInfo,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { provisionedUserEntityRef } from '@cfaccess/plugin-cloudflare-access-node';
import { decodeJwt } from 'jose';
import { SignInAudit } from '../audit';
import {
  CatalogRefChecker,
  CatalogUserRefFinder,
  catalogLookups,
  RegisteredLocationFinder,
} from '../catalogLookups';
import { CloudflareAccessConfig } from '../config';
import { CloudflareAccessNotAllowedError, isNotFound } from '../errors';
import { NOT_ALLOWED_DETAILS } from '../refusals';
import {
  CloudflareAccessMetrics,
  NO_METRICS,
  SignInPrincipal,
} from '../metrics';
import { PersonSeenAnnouncer } from '../personSeen';
import { SessionKeys } from '../cache/sessionKeys';
import { CloudflareAccessResult } from '../types';
import { provisionedGroups, provisionedMemberOf } from './groups';
import { CloudflareAccessSignInResolverOptions } from './options';
import { readResolvers } from './resolverConfig';
import { SignedIn, SignInReuse } from './reuse';

type Info = SignInInfo<CloudflareAccessResult>;

/**
 * Reads `signIn.resolvers` and tries them in order, as Backstage does, but
 * ends in a 403 that says what each resolver looked for instead of a 500.
 */
export function readCloudflareAccessSignInResolver(options: {
  config: Config;
  factories: Record<string, SignInResolverFactory<any, any>>;
  /** The same provider config, read. */
  accessConfig: CloudflareAccessConfig;
  findUserRefs?: CatalogUserRefFinder;
  findExistingRefs?: CatalogRefChecker;
  findRegisteredLocations?: RegisteredLocationFinder;
  countProvisionedUsers?: () => Promise<number>;
  cache?: CacheService;
  /** Keys of this deployment's session state. */
  keys: SessionKeys;
  /** Tells this provider's sign-ins from another's for the same Access session. */
  providerId: string;
  audit: SignInAudit;
  /** Announces people signed in as provisioned Users, for the catalog module. */
  announce?: PersonSeenAnnouncer;
  metrics?: CloudflareAccessMetrics;
}): SignInResolver<CloudflareAccessResult> {
  const { accessConfig, cache, keys, providerId, audit, announce } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const resolvers = readResolvers(
    options.config,
    options.factories,
    accessConfig,
  );
  const lookups = {
    findUserRefs: options.findUserRefs,
    findExistingRefs: options.findExistingRefs,
    findRegisteredLocations: options.findRegisteredLocations,
    countProvisionedUsers: options.countProvisionedUsers,
  };
  const reuseMs = cache ? accessConfig.signInCacheSeconds * 1000 : 0;
  const reuse =
    cache && reuseMs > 0 ? new SignInReuse(cache, metrics) : undefined;

  const resolve = async (
    info: Info,
    ctx: AuthResolverContext,
  ): Promise<BackstageSignInResult> => {
    const misses: string[] = [];
    for (const { name, resolver, provisions, options: chosen } of resolvers) {
      try {
        const result = await resolver(info, ctx);
        if (provisions && announce) {
          // Not awaited: the sign-in does not wait for the catalog; the announcer logs its own failures.
          announceProvisioned(info, ctx, result, announce, chosen).catch(
            () => {},
          );
        }
        return result;
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        misses.push(`${name}: ${(error as Error).message}`);
      }
    }
    throw new CloudflareAccessNotAllowedError(
      'no_user',
      NOT_ALLOWED_DETAILS.no_user(subjectOf(info), misses),
    );
  };

  async function resolveAudited(info: Info, ctx: AuthResolverContext) {
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
    const { sub, ent } = decodeJwt<{ ent?: string[] }>(result.token);
    await audit({ subject: sub ?? subjectOf(info) });
    return { result, claims: { sub: sub ?? '', ent } };
  }

  async function signIn(info: Info, ctx: AuthResolverContext) {
    const principal = (sub: string) => principalOf(info, sub);
    if (!reuse) {
      const answers = catalogLookups(ctx, lookups);
      const { result, claims } = await resolveAudited(info, answers.ctx);
      return { result, principal: principal(claims.sub) };
    }
    const key = keys.session('sign-in', info.result.claims, providerId);
    const reused = await reuse.reused(key, ctx, principal);
    if (reused) {
      return reused;
    }
    const answers = catalogLookups(ctx, {
      ...lookups,
      reuse: { cache: cache!, keys, ttlMs: reuseMs },
    });
    const { result, claims } = await resolveAudited(info, answers.ctx);
    // A sign-in built on an older catalog answer is reused for less, so a removed User is out within reuseMs.
    const answeredAt = answers.oldestAnswerAt() ?? Date.now();
    // A provisioned sign-in may stand for a User the catalog has not read yet: asked again within sessionCheckInterval.
    const provisioned =
      claims.sub === provisionedUserEntityRef(info.result.claims.email);
    const reuseUntil = Math.min(
      answeredAt + reuseMs,
      provisioned ? Date.now() + accessConfig.sessionCheckIntervalMs : Infinity,
    );
    const signedIn = { result, principal: principal(claims.sub) };
    await reuse.share(key, signedIn, claims, reuseUntil);
    return signedIn;
  }

  // Every refresh counts once: signed in (from the token alone when get-identity was unusable) or refused.
  return async (info, ctx) => {
    let signedIn: SignedIn;
    try {
      signedIn = await signIn(info, ctx);
    } catch (error) {
      metrics.signIn(
        'refused',
        info.result.serviceToken ? 'service_token' : 'person',
        error instanceof CloudflareAccessNotAllowedError
          ? error.reason
          : 'error',
      );
      throw error;
    }
    metrics.signIn(
      info.result.degraded ? 'degraded' : 'signed_in',
      signedIn.principal,
    );
    return signedIn.result;
  };
}

/** Announces the person when the resolver signed them in as their provisioned User (new, or already in the catalog). */
async function announceProvisioned(
  info: Info,
  ctx: AuthResolverContext,
  result: BackstageSignInResult,
  announce: PersonSeenAnnouncer,
  options: CloudflareAccessSignInResolverOptions,
) {
  const { sub } = decodeJwt(result.token);
  if (sub && sub === provisionedUserEntityRef(info.result.claims.email)) {
    await announce(info.result, {
      memberOf: () => provisionedMemberOf(ctx, info.result),
      ...(options.provisionGroups && {
        provisionedGroups: provisionedGroups(info.result, options),
      }),
    });
  }
}

/** Who was signed in, for the metrics: never the person, only what kind of sign-in it was. */
function principalOf(info: Info, sub: string): SignInPrincipal {
  if (info.result.serviceToken) {
    return 'service_token';
  }
  return sub === provisionedUserEntityRef(info.result.claims.email)
    ? 'provisioned'
    : 'person';
}

function subjectOf(info: Info): string {
  return (
    info.result.serviceToken?.token ??
    (info.profile.email || info.result.claims.sub)
  );
}
