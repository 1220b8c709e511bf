/** The proxy authenticator: finds the Access token, verifies it and attaches the identity behind it. */
import {
  accessGroupIdKey,
  asciiLowerCase,
} from '@cfaccess/plugin-cloudflare-access-node';
import {
  AuditorService,
  CacheService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  createProxyAuthenticator,
  ProxyAuthenticator,
} from '@backstage/plugin-auth-node';
import { Request } from 'express';
import { decodeJwt } from 'jose';
import { createSignInAudit, printable } from './audit';
import { CloudflareAccessConfig, readCloudflareAccessConfig } from './config';
import { createProviderContext, ProviderContext } from './context';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessUnavailableError,
  refuse,
} from './errors';
import { CloudflareAccessMetrics, NO_METRICS } from './metrics';
import {
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
  CloudflareAccessServiceToken,
} from './types';

function findToken(req: Request, config: CloudflareAccessConfig) {
  return (
    req.header(config.jwtHeaderName) ||
    req.cookies?.[config.authorizationCookieName] ||
    undefined
  );
}

/** Who an unverified token claims to be, and what it was issued for, for the log only. */
function describeClaimed(token: string | undefined): string {
  if (!token) {
    return 'no token';
  }
  try {
    const { email, common_name, sub, iss, aud } = decodeJwt(token);
    const claimed = (value: unknown) => printable(String(value), 80);
    const subject = email || common_name || sub || 'unknown subject';
    return `${claimed(subject)} (issuer ${claimed(
      iss ?? 'none',
    )}, audience ${claimed([aud ?? 'none'].flat().join(', '))})`;
  } catch {
    return 'an undecodable token';
  }
}

function serviceTokenIdentity(
  serviceToken: CloudflareAccessServiceToken,
): CloudflareAccessIdentityProfile {
  return {
    id: serviceToken.token,
    name: serviceToken.token,
    // An entity-ref subject has no email; resolvers match it by ref instead.
    email: serviceToken.subject.includes('@') ? serviceToken.subject : '',
    groups: [],
  };
}

/** The Groups `accessGroups` maps an Access group to, by group id or group email. */
function refsOf(
  group: CloudflareAccessGroup,
  accessGroups: Map<string, string[]>,
): string[] {
  return [
    ...(accessGroups.get(accessGroupIdKey(group.id)) ?? []),
    ...((group.email && accessGroups.get(asciiLowerCase(group.email))) || []),
  ];
}

/** The Groups `accessGroups` maps the person's Access groups to, and the groups it maps to nothing. */
function mapGroups(
  groups: CloudflareAccessGroup[],
  accessGroups: Map<string, string[]>,
) {
  const refs = new Set<string>();
  const unmapped: CloudflareAccessGroup[] = [];
  for (const group of groups) {
    const mapped = refsOf(group, accessGroups);
    mapped.forEach(ref => refs.add(ref));
    if (mapped.length === 0) {
      unmapped.push(group);
    }
  }
  return { accessGroupEntityRefs: [...refs], unmappedAccessGroups: unmapped };
}

/**
 * Verifies the request's token and fetches the identity behind it; `seen`
 * learns whose token it was once it is verified, for the metrics.
 */
async function authenticateRequest(
  req: Request,
  { config, verifier, identities, clock }: ProviderContext,
  seen: { principal: 'unknown' | 'person' | 'service_token' },
): Promise<CloudflareAccessResult> {
  const token = findToken(req, config);
  if (!token) {
    return refuse('missing');
  }
  const { claims, serviceToken } = await verifier.check(token);
  seen.principal = serviceToken ? 'service_token' : 'person';
  const expiresInSeconds = Math.max(
    0,
    Math.floor(claims.exp - clock.now() / 1000),
  );
  if (serviceToken) {
    return {
      claims,
      cfIdentity: serviceTokenIdentity(serviceToken),
      expiresInSeconds,
      token,
      serviceToken,
    };
  }
  const { identity, degraded } = await identities.getIdentity(token, claims);
  return {
    claims,
    cfIdentity: identity,
    expiresInSeconds,
    token,
    ...(degraded && { degraded }),
    ...mapGroups(identity.groups, config.accessGroups),
  };
}

/** The result as the browser may see it: no raw token, no service token config. */
function toProviderInfo({
  token: _token,
  serviceToken,
  unmappedAccessGroups: _unmapped,
  ...rest
}: CloudflareAccessResult): CloudflareAccessProviderInfo {
  return serviceToken ? { ...rest, serviceTokenId: serviceToken.token } : rest;
}

/**
 * Implements Cloudflare Access authentication: verifies the Access token on
 * the request and attaches the identity behind its session.
 *
 * @public
 */
export function createCloudflareAccessAuthenticator(options?: {
  /**
   * Shares identities across requests and replicas; without it every
   * refresh asks Access. Pass `createCloudflareAccessSessionCache(...)` for a
   * bounded in-process store and survival of a shared store's outage.
   */
  cache?: CacheService;
  logger?: LoggerService;
  /** Records refusals; without it they go to the logger. */
  auditor?: AuditorService;
}): ProxyAuthenticator<
  unknown,
  CloudflareAccessResult,
  CloudflareAccessProviderInfo
> {
  return createAuthenticator(options);
}

/** The authenticator, counting refusals, get-identity calls and key fetches in `metrics`. */
export function createAuthenticator(
  options?: Parameters<typeof createCloudflareAccessAuthenticator>[0] & {
    metrics?: CloudflareAccessMetrics;
    /** The provider's context, already built; else `initialize` builds one from the provider's config. */
    context?: ProviderContext;
  },
) {
  const metrics = options?.metrics ?? NO_METRICS;
  const audit = createSignInAudit({
    auditor: options?.auditor,
    logger: options?.logger,
  });
  return createProxyAuthenticator<
    ProviderContext,
    CloudflareAccessResult,
    CloudflareAccessProviderInfo
  >({
    async defaultProfileTransform(result) {
      return {
        profile: {
          email: result.cfIdentity.email || undefined,
          displayName: result.cfIdentity.name || undefined,
        },
      };
    },
    initialize({ config }) {
      return (
        options?.context ??
        createProviderContext(readCloudflareAccessConfig(config), {
          cache: options?.cache,
          logger: options?.logger,
          metrics,
        })
      );
    },
    async authenticate({ req }, ctx) {
      const seen: Parameters<typeof authenticateRequest>[2] = {
        principal: 'unknown',
      };
      try {
        const result = await authenticateRequest(req, ctx, seen);
        return { result, providerInfo: toProviderInfo(result) };
      } catch (error) {
        const known =
          error instanceof CloudflareAccessAuthenticationError ||
          error instanceof CloudflareAccessUnavailableError;
        metrics.signIn(
          'refused',
          seen.principal,
          known ? error.reason : 'error',
        );
        if (known) {
          await audit({
            subject: () => describeClaimed(findToken(req, ctx.config)),
            reason: error.reason,
            error,
          });
        }
        throw error;
      }
    },
  });
}
