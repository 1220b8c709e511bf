/** A real test backend with the auth and catalog plugins and this module, for the integration tests. */
import { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { BackendFeature } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import request from 'supertest';
import { AccessEmulator } from '@cfaccess/access-emulator';
import cfaccessModule from '../index';
import { createAuthModule } from '../module';
import { TestClock } from './clock';
import { eventually } from './eventually';

export const EXAMPLE_ORG = resolvePath(
  __dirname,
  '../../../../examples/org.yaml',
);
export const FIXTURE_CATALOG = resolvePath(
  __dirname,
  '../__fixtures__/catalog.yaml',
);
export const REFRESH = '/api/auth/cfaccess/refresh';

export type AuditedEvent = {
  meta?: { subject?: string; reason?: string };
  outcome: 'success' | 'fail';
  /** A refusal's error message as audited: for a 403, its details for administrators. */
  error?: string;
};

/**
 * A real backend with the auth and catalog plugins and this module, reading
 * `catalogFile`; resolves once the catalog has ingested `readyUser`.
 */
export async function startCfaccessBackend(options: {
  provider: JsonObject;
  catalogFile?: string;
  readyUser?: string;
  config?: JsonObject;
  features?: BackendFeature[];
  /** The module's clock, for tests that move time; the system's otherwise. */
  clock?: TestClock;
}) {
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
  const backend = await startTestBackend({
    features: [
      authPlugin,
      catalogPlugin,
      options.clock
        ? createAuthModule({ clock: options.clock })
        : cfaccessModule,
      auditor.factory,
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
    /** Stops the backend now, before what it depends on (test teardown would stop it last). */
    stop: () => backend.stop(),
    refresh(token?: string, header = 'cf-access-jwt-assertion') {
      const req = request(server).get(REFRESH);
      return token ? req.set(header, token) : req;
    },
  };
}

/** An `accessGroups` config mapping each Access group of these people to the catalog Group of the same name. */
export function accessGroupsOf(
  emulator: AccessEmulator,
  emails: string[],
): JsonObject[] {
  const groups = emails.flatMap(email => emulator.identityOf(email).groups);
  return groups.map(group => ({
    id: group.id,
    entityRef: `group:default/${group.name}`,
  }));
}

export type CfaccessBackend = Awaited<ReturnType<typeof startCfaccessBackend>>;
