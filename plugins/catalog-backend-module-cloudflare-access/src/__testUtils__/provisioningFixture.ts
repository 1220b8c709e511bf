/** One provisioning backend for the tests of a describe: its database, its clock, its restarts, and the auth module beside it. */
import { BackendFeature } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/config';
import authPlugin from '@backstage/plugin-auth-backend';
import cfaccessModule from '@cfaccess/plugin-auth-backend-module-cloudflare-access-provider';
import { provisionedUserEntityName } from '@cfaccess/plugin-cloudflare-access-node';
import { sqliteFileDatabase, TestDatabase } from './databases';
import {
  personSeen,
  ProvisioningBackend,
  startProvisioningBackend,
} from './testBackend';

/** What a test chooses of its backend; the database and the clock are the fixture's. */
export type ProvisioningBackendOptions = Omit<
  Parameters<typeof startProvisioningBackend>[0],
  'database' | 'clock'
>;

export type ProvisioningFixture = ProvisioningBackend & {
  /** Stops the backend and starts it again on the same database, with `options` or the fixture's own. */
  restart(options?: ProvisioningBackendOptions): Promise<void>;
  /**
   * Moves the module's clock `ms` on (for the rest of the test), has `email`
   * seen at the moved time, waits for their User, and runs the sync.
   */
  syncLater(ms: number, email: string): Promise<void>;
};

/**
 * Starts a provisioning backend with `options()` on a new database before the
 * tests of the enclosing describe (before each test, with `each`), and stops
 * it and removes the database after them. Every start copies its backend onto
 * the one object returned, so the tests keep one handle across restarts; the
 * clock is back to real time after each test.
 */
export function useProvisioningBackend(
  options: () => ProvisioningBackendOptions = () => ({}),
  {
    createDatabase = sqliteFileDatabase,
    each = false,
  }: { createDatabase?: () => Promise<TestDatabase>; each?: boolean } = {},
): ProvisioningFixture {
  let database: TestDatabase | undefined;
  // The module's clock: real time plus what `syncLater` moved it on in this test.
  let clockOffsetMs = 0;
  const now = () => new Date(Date.now() + clockOffsetMs);
  const backend = {
    async restart(restartOptions = options()) {
      await backend.stop();
      await start(restartOptions);
    },
    async syncLater(ms: number, email: string) {
      clockOffsetMs += ms;
      await backend.publish(personSeen(email, { seenAt: now().toISOString() }));
      await backend.waitForUser(provisionedUserEntityName(email)!);
      await backend.runSync();
    },
  } as ProvisioningFixture;
  async function start(startOptions: ProvisioningBackendOptions) {
    Object.assign(
      backend,
      await startProvisioningBackend({
        ...startOptions,
        database: database!.config,
        clock: now,
      }),
    );
  }

  (each ? beforeEach : beforeAll)(async () => {
    database = await createDatabase();
    await start(options());
  }, 60_000);
  (each ? afterEach : afterAll)(async () => {
    await backend.stop?.();
    await database?.dispose();
  }, 60_000);
  afterEach(() => {
    clockOffsetMs = 0;
  });
  return backend;
}

/**
 * Options for a backend that signs people in as well: the auth plugin and the
 * Access module, its provider at `teamDomain` (an emulator) with `cfaccess`.
 */
export function withAuthModule(
  teamDomain: string,
  cfaccess: JsonObject,
  features: BackendFeature[] = [],
): ProvisioningBackendOptions {
  return {
    features: [authPlugin, cfaccessModule, ...features],
    config: {
      app: { baseUrl: 'http://localhost:3000' },
      auth: {
        providers: { cfaccess: { teamDomain, audience: 'aud', ...cfaccess } },
      },
    },
  };
}
