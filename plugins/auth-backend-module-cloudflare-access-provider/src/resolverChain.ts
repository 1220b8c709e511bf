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
import { LRUCache } from 'lru-cache';
import { SignInAudit } from './audit';
import {
  CatalogRefChecker,
  CatalogUserRefFinder,
  catalogLookups,
  RegisteredLocationFinder,
} from './catalogLookups';
import { CloudflareAccessConfig } from './config';
import { CloudflareAccessNotAllowedError, isNotFound } from './errors';
import {
  CloudflareAccessMetrics,
  NO_METRICS,
  SignInPrincipal,
} from './metrics';
import { PersonSeenAnnouncer } from './personSeen';
import {
  CloudflareAccessSignInResolverOptions,
  provisionedGroups,
  provisionedMemberOf,
} from './resolvers';
import { MIN_TOKEN_LIFE_MS, SessionKeys } from './sessionCache';
import { CloudflareAccessResult } from './types';

/**
 * A resolved sign-in as the shared cache stores it (JSON): who and what they
 * own, until when; never a token, which anyone reading the cache could replay.
 */
type SharedSignIn = {
  userEntityRef: string;
  ownershipEntityRefs: string[];
  /** Epoch ms after which the sign-in is resolved against the catalog again. */
  reuseUntil: number;
};

/** A Backstage token this replica issued for a session, kept in its memory only. */
type IssuedSignIn = SignedIn & { reuseUntil: number };

/** A sign-in as the chain hands it back: the result, and what kind of sign-in it was. */
type SignedIn = { result: BackstageSignInResult; principal: SignInPrincipal };

// Bounds the tokens this replica keeps: about one per active Access session.
const ISSUED_SIGN_INS_MAX = 10_000;

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
  const {
    config,
    factories,
    accessConfig,
    findUserRefs,
    findExistingRefs,
    findRegisteredLocations,
    countProvisionedUsers,
    cache,
    keys,
    providerId,
    audit,
    announce,
  } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const entries = config.getOptionalConfigArray('signIn.resolvers') ?? [];
  if (entries.length === 0) {
    throw new Error(
      `Invalid Cloudflare Access config: auth.providers.cfaccess.signIn.resolvers is missing. Add at least one, e.g. - resolver: emailMatchingUserEntityProfileEmail`,
    );
  }
  const resolvers = entries.map((entry, index) => {
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
      ownershipFromAccessGroups?: unknown;
      dangerouslyMatchAccessGroupsByName?: unknown;
      provisionUsers?: unknown;
      provisionGroups?: unknown;
      allowedDomains?: unknown;
    }>();
    const provisions = resolverOptions.provisionUsers === true;
    const provisionsGroups = resolverOptions.provisionGroups === true;
    if (provisionsGroups && !provisions) {
      throw new Error(
        `Invalid Cloudflare Access config: auth.providers.cfaccess.signIn.resolvers[${index}].provisionGroups keeps Groups for provisioned Users only; add provisionUsers: true (and allowedDomains) to that resolver, or remove provisionGroups`,
      );
    }
    if (
      provisions &&
      !(
        Array.isArray(resolverOptions.allowedDomains) &&
        resolverOptions.allowedDomains.length > 0
      )
    ) {
      throw new Error(
        `Invalid Cloudflare Access config: auth.providers.cfaccess.signIn.resolvers[${index}].provisionUsers signs in anyone Access lets through who has no User entity, so it needs auth.providers.cfaccess.signIn.resolvers[${index}].allowedDomains: the email domains whose people may be provisioned, e.g. allowedDomains: [example.com]`,
      );
    }
    if (
      resolverOptions.ownershipFromAccessGroups === true &&
      resolverOptions.dangerouslyMatchAccessGroupsByName !== true &&
      accessConfig.accessGroups.size === 0
    ) {
      throw new Error(
        `Invalid Cloudflare Access config: auth.providers.cfaccess.signIn.resolvers[${index}].ownershipFromAccessGroups grants the catalog Groups that auth.providers.cfaccess.accessGroups maps Access group ids to, and accessGroups is empty. Map each Access group to its Group: accessGroups: [{ id: <Access group id or group email>, entityRef: group:default/<name> }]. Groups are no longer matched by name, which anyone who can create a group in the identity provider could choose (see the migration guide)`,
      );
    }
    const resolver = factories[name](
      Object.keys(resolverOptions).length > 0 ? resolverOptions : undefined,
    ) as SignInResolver<CloudflareAccessResult>;
    return {
      name,
      resolver,
      provisions,
      options: resolverOptions as CloudflareAccessSignInResolverOptions,
    };
  });

  const resolve = async (
    info: SignInInfo<CloudflareAccessResult>,
    ctx: AuthResolverContext,
  ): Promise<BackstageSignInResult> => {
    const misses: string[] = [];
    for (const {
      name,
      resolver,
      provisions,
      options: resolverOptions,
    } of resolvers) {
      try {
        const result = await resolver(info, ctx);
        if (provisions && announce) {
          // Not awaited: the sign-in does not wait for the catalog; the announcer logs its own failures.
          announceProvisioned(
            info,
            ctx,
            result,
            announce,
            resolverOptions,
          ).catch(() => {});
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
      `${subjectOf(
        info,
      )} passed Cloudflare Access but is not a Backstage user. ${misses.join(
        '. ',
      )}. Add a User entity that one of the configured sign-in resolvers matches`,
    );
  };

  const reuseMs = cache ? accessConfig.signInCacheSeconds * 1000 : 0;
  const issued = new LRUCache<string, IssuedSignIn>({
    max: ISSUED_SIGN_INS_MAX,
  });
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

  async function signIn(
    info: SignInInfo<CloudflareAccessResult>,
    ctx: AuthResolverContext,
  ): Promise<SignedIn> {
    if (!cache || reuseMs <= 0) {
      const lookups = catalogLookups(ctx, {
        findUserRefs,
        findExistingRefs,
        findRegisteredLocations,
        countProvisionedUsers,
      });
      const { result, claims } = await resolveAudited(info, lookups.ctx);
      return { result, principal: principalOf(info, claims.sub) };
    }
    const key = keys.session('sign-in', info.result.claims, providerId);
    const mine = issued.get(key);
    if (mine && mine.reuseUntil > Date.now()) {
      metrics.cacheRead({ layer: 'memory', result: 'hit' });
      return mine;
    }
    const shared = await cache.get<SharedSignIn>(key);
    if (shared && shared.reuseUntil > Date.now()) {
      // Resolved by another replica (or by this one before a restart): issue this replica's own token.
      const result = await ctx.issueToken({
        claims: {
          sub: shared.userEntityRef,
          ent: shared.ownershipEntityRefs,
        },
      });
      const signedIn = {
        result,
        principal: principalOf(info, shared.userEntityRef),
      };
      keep(key, signedIn, shared.reuseUntil);
      return signedIn;
    }
    const answers = catalogLookups(ctx, {
      findUserRefs,
      findExistingRefs,
      findRegisteredLocations,
      countProvisionedUsers,
      reuse: { cache, keys, ttlMs: reuseMs },
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
    const ttl = reuseUntil - Date.now();
    const signedIn = { result, principal: principalOf(info, claims.sub) };
    if (ttl > 0) {
      const entry: SharedSignIn = {
        userEntityRef: claims.sub,
        // The identity carries the ownership when the token omits it (auth.omitIdentityTokenOwnershipClaim).
        ownershipEntityRefs:
          result.identity?.ownershipEntityRefs ?? claims.ent ?? [],
        reuseUntil,
      };
      await cache.set(key, entry, { ttl });
      keep(key, signedIn, reuseUntil);
    }
    return signedIn;
  }

  /** Keeps a token this replica issued for as long as the sign-in is reused and the token has life left. */
  function keep(key: string, signedIn: SignedIn, reuseUntil: number) {
    const { exp } = decodeJwt(signedIn.result.token);
    const until = Math.min(reuseUntil, (exp ?? 0) * 1000 - MIN_TOKEN_LIFE_MS);
    if (until > Date.now()) {
      issued.set(
        key,
        { ...signedIn, reuseUntil: until },
        { ttl: until - Date.now() },
      );
    }
  }

  async function resolveAudited(
    info: SignInInfo<CloudflareAccessResult>,
    ctx: AuthResolverContext,
  ): Promise<{
    result: BackstageSignInResult;
    claims: { sub: string; ent?: string[] };
  }> {
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
}

/** Announces the person when the resolver signed them in as their provisioned User (new, or already in the catalog). */
async function announceProvisioned(
  info: SignInInfo<CloudflareAccessResult>,
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
function principalOf(
  info: SignInInfo<CloudflareAccessResult>,
  sub: string,
): SignInPrincipal {
  if (info.result.serviceToken) {
    return 'service_token';
  }
  return sub === provisionedUserEntityRef(info.result.claims.email)
    ? 'provisioned'
    : 'person';
}

function subjectOf(info: SignInInfo<CloudflareAccessResult>): string {
  return (
    info.result.serviceToken?.token ??
    (info.profile.email || info.result.claims.sub)
  );
}
