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
import { CatalogPort } from '../catalogPort';
import { ProviderContext } from '../context';
import { CloudflareAccessNotAllowedError, isNotFound } from '../errors';
import { NOT_ALLOWED_DETAILS } from '../refusals';
import {
  CloudflareAccessMetrics,
  NO_METRICS,
  SignInPrincipal,
} from '../metrics';
import { PersonSeenAnnouncer } from '../personSeen';
import { CloudflareAccessResult } from '../types';
import { provisionedGroups, provisionedMemberOf } from './groups';
import {
  CatalogLookups,
  catalogLookups,
  SignInDecision,
} from './catalogLookups';
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
  /** The provider's context: its config read, its session keys, the clock. */
  context: Pick<ProviderContext, 'config' | 'keys' | 'clock'>;
  /** The catalog questions beyond the auth plugin's context; without them resolvers ask one ref at a time. */
  catalog?: Partial<CatalogPort>;
  cache?: CacheService;
  /** Tells this provider's sign-ins from another's for the same Access session. */
  providerId: string;
  audit: SignInAudit;
  /** Announces people signed in as provisioned Users, for the catalog module. */
  announce?: PersonSeenAnnouncer;
  metrics?: CloudflareAccessMetrics;
}): SignInResolver<CloudflareAccessResult> {
  const { context, cache, providerId, audit, announce } = options;
  const { config: accessConfig, keys, clock } = context;
  const metrics = options.metrics ?? NO_METRICS;
  const resolvers = readResolvers(
    options.config,
    options.factories,
    accessConfig,
  );
  const reuseMs = cache ? accessConfig.signInCacheSeconds * 1000 : 0;
  const reuse =
    cache && reuseMs > 0 ? new SignInReuse(cache, metrics, clock) : undefined;

  /** The first resolver's sign-in, and who it decided the person is; a 403 naming what each looked for if none. */
  const resolve = async (info: Info, answers: CatalogLookups) => {
    const misses: string[] = [];
    for (const { name, resolver, provisions, options: chosen } of resolvers) {
      let result: BackstageSignInResult;
      try {
        result = await resolver(info, answers.ctx);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        misses.push(`${name}: ${(error as Error).message}`);
        continue;
      }
      // A resolver that got its token elsewhere than its context names the person in the token alone.
      const decided =
        answers.decided() ?? decodeJwt<SignInDecision>(result.token);
      const signedIn = {
        result,
        decided,
        principal: principalOf(info, decided.sub),
      };
      if (provisions && announce && signedIn.principal === 'provisioned') {
        // Not awaited: the sign-in does not wait for the catalog; the announcer logs its own failures.
        announce(info.result, {
          memberOf: () => provisionedMemberOf(answers.ctx, info.result),
          ...(chosen.provisionGroups && {
            provisionedGroups: provisionedGroups(info.result, chosen),
          }),
        }).catch(() => {});
      }
      return signedIn;
    }
    throw new CloudflareAccessNotAllowedError(
      'no_user',
      NOT_ALLOWED_DETAILS.no_user(subjectOf(info), misses),
    );
  };

  async function resolveAudited(info: Info, answers: CatalogLookups) {
    try {
      const signedIn = await resolve(info, answers);
      await audit({ subject: signedIn.decided.sub || subjectOf(info) });
      return signedIn;
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
  }

  async function signIn(info: Info, ctx: AuthResolverContext) {
    const lookups = { ...options.catalog, clock };
    if (!reuse) {
      return resolveAudited(info, catalogLookups(ctx, lookups));
    }
    const key = keys.session('sign-in', info.result.claims, providerId);
    const reused = await reuse.reused(key, ctx, sub => principalOf(info, sub));
    if (reused) {
      return reused;
    }
    const answers = catalogLookups(ctx, {
      ...lookups,
      reuse: { cache: cache!, keys, ttlMs: reuseMs },
    });
    const signedIn = await resolveAudited(info, answers);
    // A sign-in built on an older catalog answer is reused for less, so a removed User is out within reuseMs.
    const now = clock.now();
    const answeredAt = answers.oldestAnswerAt() ?? now;
    // A provisioned sign-in may stand for a User the catalog has not read yet: asked again within sessionCheckInterval.
    const reuseUntil = Math.min(
      answeredAt + reuseMs,
      signedIn.principal === 'provisioned'
        ? now + accessConfig.sessionCheckIntervalMs
        : Infinity,
    );
    await reuse.share(key, signedIn, reuseUntil);
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
