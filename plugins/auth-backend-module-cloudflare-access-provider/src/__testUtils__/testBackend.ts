/** Real test backends with the auth and catalog plugins and this module, beside an Access emulator, for the integration tests. */
import { AddressInfo } from 'node:net';
import { BackendFeature } from '@backstage/backend-plugin-api';
import { cacheServiceFactory } from '@backstage/backend-defaults/cache';
import { JsonObject } from '@backstage/types';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import request from 'supertest';
import {
  AccessEmulator,
  AccessEmulatorOptions,
} from '@cfaccess/access-emulator';
import cfaccessModule from '../index';
import { createAuthModule } from '../module';
import { TestClock } from './clock';
import { useAccessEmulator } from './emulator';
import { eventually } from './eventually';
import { EXAMPLE_ORG, FIXTURE_CATALOG } from './paths';
import { replicaBackendConfig, SharedRedis } from './redis';

const REFRESH = '/api/auth/cfaccess/refresh';

export type AuditedEvent = {
  meta?: { subject?: string; reason?: string };
  outcome: 'success' | 'fail';
  /** A refusal's error message as audited: for a 403, its details for administrators. */
  error?: string;
};

export type CfaccessBackendOptions = {
  provider: JsonObject;
  catalogFile?: string;
  readyUser?: string;
  config?: JsonObject;
  features?: BackendFeature[];
  /** The module's clock, for tests that move time; the system's otherwise. */
  clock?: TestClock;
  /** A replica of the deployment on this Redis: its cache store and auth database. */
  sharedRedis?: SharedRedis;
};

/** The resolver and provisioning tests' catalog, ready once it has the one User that only it has. */
export const ON_FIXTURE_CATALOG = {
  catalogFile: FIXTURE_CATALOG,
  readyUser: 'deploy-bot',
};

/**
 * A real backend with the auth and catalog plugins and this module, reading
 * `catalogFile`; resolves once the catalog has ingested `readyUser`.
 */
async function startCfaccessBackend(options: CfaccessBackendOptions) {
  const audited: AuditedEvent[] = [];
  const auditor = mockServices.auditor.mock({
    async createEvent({ eventId, meta }) {
      // Other plugins (the catalog) audit too; keep this module's events only.
      const record = (outcome: AuditedEvent['outcome'], error?: Error) => {
        if (eventId === 'cfaccess-sign-in') {
          audited.push({
            meta: meta as AuditedEvent['meta'],
            outcome,
            ...(error && { error: error.message }),
          });
        }
      };
      return {
        async success() {
          record('success');
        },
        async fail(options) {
          record('fail', options?.error);
        },
      };
    },
  });
  const { sharedRedis } = options;
  const backend = await startTestBackend({
    features: [
      authPlugin,
      catalogPlugin,
      options.clock
        ? createAuthModule({ clock: options.clock })
        : cfaccessModule,
      auditor.factory,
      ...(sharedRedis ? [cacheServiceFactory] : []),
      ...(options.features ?? []),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          catalog: {
            rules: [{ allow: ['User', 'Group', 'Location'] }],
            locations: [
              { type: 'file', target: options.catalogFile ?? EXAMPLE_ORG },
            ],
          },
          auth: { providers: { cfaccess: options.provider } },
          ...(sharedRedis && { backend: replicaBackendConfig(sharedRedis) }),
          ...options.config,
        },
      }),
    ],
  });
  const readyUser = options.readyUser ?? 'ada';
  const { server } = backend;
  await eventually(
    async () =>
      (
        await request(server).get(
          `/api/catalog/entities/by-name/user/default/${readyUser}`,
        )
      ).status === 200,
    { timeoutMs: 30_000 },
  );
  return {
    server,
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    audited,
    /** How many sign-ins it has audited as successful. */
    successes: () =>
      audited.filter(event => event.outcome === 'success').length,
    /** The provider config it runs with. */
    provider: options.provider,
    /** Stops the backend now, before what it depends on (test teardown would stop it last). */
    stop: () => backend.stop(),
    refresh(token?: string, header = 'cf-access-jwt-assertion') {
      const req = request(server).get(REFRESH);
      return token ? req.set(header, token) : req;
    },
  };
}

export type CfaccessBackend = Awaited<ReturnType<typeof startCfaccessBackend>>;

/**
 * Starts a backend with `options()` before the tests of the enclosing
 * describe (called then, so it may use what earlier hooks started, such as
 * an emulator) and stops it after them. The handle is filled in once it has
 * started.
 */
function useCfaccessBackend(
  options: () => CfaccessBackendOptions,
): CfaccessBackend {
  const backend = {} as CfaccessBackend;
  beforeAll(async () => {
    Object.assign(backend, await startCfaccessBackend(options()));
  }, 60_000);
  afterAll(() => backend.stop?.());
  return backend;
}

/** Provider keys as given, and the builder's own: see `providerOn`. */
export type ProviderOptions = JsonObject & {
  resolver?: JsonObject;
  groupsOf?: string[];
};

/**
 * The provider config the tests start from: the emulator's team domain, the
 * audience `aud`, and the one resolver emailMatchingUserEntityProfileEmail
 * with the `resolver` options; `groupsOf` maps the Access groups of these
 * people to the catalog Groups of the same names; other keys as given.
 */
function providerOn(
  emulator: AccessEmulator,
  { resolver, groupsOf, ...provider }: ProviderOptions = {},
): JsonObject {
  return {
    teamDomain: emulator.url,
    audience: 'aud',
    ...(groupsOf && { accessGroups: accessGroupsOf(emulator, groupsOf) }),
    signIn: {
      resolvers: [
        { resolver: 'emailMatchingUserEntityProfileEmail', ...resolver },
      ],
    },
    ...provider,
  };
}

/**
 * An Access emulator (`options.emulator`, by default the example org's
 * people) for the tests of the enclosing describe, and backends on it: each
 * with the provider `providerOn` the emulator with `provider`, and the other
 * `options`; `more` of either is laid over them.
 */
export function useCfaccess(
  provider: ProviderOptions = {},
  {
    emulator: emulatorOptions,
    ...options
  }: Partial<CfaccessBackendOptions> & {
    emulator?: AccessEmulatorOptions;
  } = {},
) {
  const emulator = useAccessEmulator(emulatorOptions);
  const optionsWith = (
    moreProvider: ProviderOptions = {},
    more: Partial<CfaccessBackendOptions> = {},
  ): CfaccessBackendOptions => ({
    ...options,
    ...more,
    provider: providerOn(emulator, { ...provider, ...moreProvider }),
  });
  return {
    emulator,
    /** A backend for the tests of the enclosing describe. */
    useBackend: (
      moreProvider?: ProviderOptions,
      more?: Partial<CfaccessBackendOptions>,
    ) => useCfaccessBackend(() => optionsWith(moreProvider, more)),
    /** A backend started now, for one test (or a replica of the describe's). */
    startBackend: (
      moreProvider?: ProviderOptions,
      more?: Partial<CfaccessBackendOptions>,
    ) => startCfaccessBackend(optionsWith(moreProvider, more)),
  };
}

/** An `accessGroups` config mapping each Access group of these people to the catalog Group of the same name. */
function accessGroupsOf(
  emulator: AccessEmulator,
  emails: string[],
): JsonObject[] {
  const groups = emails.flatMap(email => emulator.identityOf(email).groups);
  return groups.map(group => ({
    id: group.id,
    entityRef: `group:default/${group.name}`,
  }));
}

/** The Backstage identity a refresh answered with, if it signed someone in. */
export const identityOf = (res: { body: any }) =>
  res.body.backstageIdentity?.identity;
