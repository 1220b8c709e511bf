/** What a provider builds once from its config: the authenticator, the sign-in chain and explain share it. */
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import { SessionKeys } from './cache/sessionKeys';
import { Clock, SYSTEM_CLOCK } from './clock';
import { CloudflareAccessConfig } from './config';
import { AccessIdentityClient } from './identityClient';
import { CloudflareAccessMetrics, NO_METRICS } from './metrics';
import { AccessTokenVerifier } from './verifier';

/** One provider's config, read once, and the parts built from it. */
export type ProviderContext = {
  config: CloudflareAccessConfig;
  /** Keys of this deployment's session state. */
  keys: SessionKeys;
  verifier: AccessTokenVerifier;
  identities: AccessIdentityClient;
  clock: Clock;
};

/** Builds a provider's context from its config, read (`readCloudflareAccessConfig`). */
export function createProviderContext(
  config: CloudflareAccessConfig,
  options: {
    /** The session cache; without it every refresh asks get-identity. */
    cache?: CacheService;
    logger?: LoggerService;
    metrics?: CloudflareAccessMetrics;
    clock?: Clock;
  } = {},
): ProviderContext {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const metrics = options.metrics ?? NO_METRICS;
  const keys = new SessionKeys(config);
  return {
    config,
    keys,
    clock,
    verifier: new AccessTokenVerifier(config, { metrics, clock }),
    identities: new AccessIdentityClient({
      identityUrl: config.identityUrl,
      timeoutMs: config.identityTimeoutMs,
      checkIntervalMs: config.sessionCheckIntervalMs,
      cache: options.cache,
      keys,
      logger: options.logger,
      metrics,
      clock,
    }),
  };
}
