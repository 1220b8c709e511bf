/** The get-identity client on its own against the emulator, for the tests of a describe: clients, sign-ins, outcomes and counted calls. */
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import type { MetricsService } from '@backstage/backend-plugin-api/alpha';
import { ConfigReader } from '@backstage/config';
import { metrics } from '@opentelemetry/api';
import { decodeJwt } from 'jose';
import { SessionKeys } from '../cache/sessionKeys';
import { CloudflareAccessAuthenticationError } from '../errors';
import { AccessIdentityClient } from '../identityClient';
import { createCloudflareAccessMetrics } from '../metrics';
import { createSessionCache } from '../sessionCache';
import { CloudflareAccessClaims } from '../types';
import { TestClock } from './clock';
import { useAccessEmulator } from './emulator';
import { useRecordedMetrics } from './metrics';

/**
 * An emulator for the tests of the enclosing describe (see
 * `useAccessEmulator`), and what they need to ask its get-identity through
 * clients of their own, on a clock they move.
 */
export function useIdentityClients() {
  const recorded = useRecordedMetrics();
  const emulator = useAccessEmulator();
  const clock = new TestClock();

  /** A client with its own in-process session cache (Backstage's default memory store). */
  function client(
    options: {
      checkIntervalMs?: number;
      identityUrl?: string;
      logger?: LoggerService;
      /** Without a cache, as cfaccess-explain asks. */
      noCache?: boolean;
    } = {},
  ) {
    return new AccessIdentityClient({
      identityUrl:
        options.identityUrl ?? `${emulator.url}/cdn-cgi/access/get-identity`,
      logger: options.logger,
      timeoutMs: 300,
      checkIntervalMs: options.checkIntervalMs ?? 60_000,
      cache: options.noCache
        ? undefined
        : createSessionCache({
            // The memory store never touches Backstage's cache service.
            cache: undefined as unknown as CacheService,
            rootConfig: new ConfigReader({}),
            clock,
          }),
      keys: new SessionKeys({ teamDomain: emulator.url, audiences: ['aud'] }),
      // Backstage's metrics service is this meter's methods under another name.
      metrics: createCloudflareAccessMetrics(
        metrics.getMeter('identity-answers') as unknown as MetricsService,
      ),
      clock,
    });
  }

  const claimsOf = (token: string) =>
    decodeJwt(token) as unknown as CloudflareAccessClaims;

  return {
    emulator,
    clock,
    client,
    claimsOf,
    recorded,
    async signIn(email: string) {
      const session = await emulator.signIn(email);
      return { ...session, claims: claimsOf(session.token) };
    },
    /** Why `getIdentity` refused, or 'signed in'. */
    async outcome(
      identities: AccessIdentityClient,
      token: string,
    ): Promise<string> {
      try {
        await identities.getIdentity(token, claimsOf(token));
        return 'signed in';
      } catch (error) {
        if (error instanceof CloudflareAccessAuthenticationError) {
          return error.reason;
        }
        throw error;
      }
    },
    /** The get-identity calls counted so far with this outcome. */
    calls: (outcome: string) =>
      recorded.count('cfaccess.get_identity.calls', {
        'cfaccess.outcome': outcome,
      }),
  };
}
