/** A real test backend with the catalog, the real events service and this module, for the integration tests. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import {
  coreServices,
  createBackendModule,
  createBackendPlugin,
  BackendFeature,
  createServiceFactory,
  LoggerService,
  RootLoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/config';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogLocationsExtensionPoint,
  catalogProcessingExtensionPoint,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import {
  EventsService,
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import {
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  CloudflareAccessPersonSeenEvent,
  CloudflareAccessPersonSeenSigner,
  cloudflareAccessPersonSeenSignerServiceRef,
} from '@cfaccess/plugin-cloudflare-access-node';
import { createProvisioningModule } from '../module';
import { PROVISIONING_SYNC_TASK_ID } from '../provider';

export const FIXTURE_CATALOG = resolvePath(
  __dirname,
  '../__fixtures__/catalog.yaml',
);

export type LogRecord = {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: Record<string, unknown>;
};

/** Matches a log record of that level whose message is (or matches) `message`. */
export const logRecord = (level: LogRecord['level'], message: unknown) =>
  expect.objectContaining({ level, message });

/** A root logger that keeps every line, so tests can read what was logged. */
function recordingLogger(
  records: LogRecord[],
  meta: Record<string, unknown> = {},
): RootLoggerService {
  const log =
    (level: LogRecord['level']): LoggerService['info'] =>
    (message, extra) => {
      records.push({ level, message, meta: { ...meta, ...extra } });
    };
  return {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: childMeta => recordingLogger(records, { ...meta, ...childMeta }),
  };
}

/**
 * The auth provider config the module reads its policy from: people of
 * example.com are provisioned, with Groups; three Access groups are mapped.
 */
export const PROVISIONING_AUTH_CONFIG: JsonObject = {
  providers: {
    cfaccess: {
      teamDomain: 'http://localhost:1',
      audience: 'aud',
      accessGroups: [
        {
          id: '3f1c6e0a-8c5d-4e2b-9a77-52f0c1d2e3f4',
          entityRef: 'group:default/platform',
        },
        { id: 'g-sre', entityRef: 'group:ops/sre' },
      ],
      signIn: {
        resolvers: [
          {
            resolver: 'emailMatchingUserEntityProfileEmail',
            allowedDomains: ['example.com'],
            provisionUsers: true,
            provisionGroups: true,
          },
        ],
      },
    },
  },
};

/** A "person seen" event as the auth module publishes it. */
export function personSeen(
  email: string,
  fields: Partial<CloudflareAccessPersonSeenEvent> = {},
): CloudflareAccessPersonSeenEvent {
  return {
    version: 1,
    email,
    accessUserId: `access-id-of-${email}`,
    accessGroupIds: [],
    memberOf: [],
    seenAt: new Date().toISOString(),
    ...fields,
  };
}

function isEventLike(
  payload: unknown,
): payload is CloudflareAccessPersonSeenEvent {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    (payload as { version?: unknown }).version === 1 &&
    Array.isArray((payload as { memberOf?: unknown }).memberOf)
  );
}

/** Polls until `check` returns a value, for at most 10 seconds; a timeout shows the warnings and errors logged. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  logs: LogRecord[],
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      const problems = logs
        .filter(log => log.level === 'warn' || log.level === 'error')
        .map(log => `${log.level}: ${log.message} ${JSON.stringify(log.meta)}`);
      throw new Error(
        `Timed out after 10 s waiting for ${what}; logged:\n${problems.join(
          '\n',
        )}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
}

/**
 * A real backend: the catalog plugin reading the fixture catalog, this module
 * on `clock`, `database` (`backend.database` config) and `providerConfig`, Backstage's own
 * events service, and a stand-in for the auth plugin that publishes on it.
 * Resolves once the catalog has the fixture's User.
 */
export async function startProvisioningBackend(options: {
  database: JsonObject;
  clock: () => Date;
  /** `catalog.providers.cloudflareAccess`. */
  providerConfig?: JsonObject;
  /** More plugins and modules (the auth plugin and the Access module). */
  features?: BackendFeature[];
  /** More config at the top level (auth, app). */
  config?: JsonObject;
}) {
  const logs: LogRecord[] = [];
  let publisherEvents: EventsService | undefined;
  let signer: CloudflareAccessPersonSeenSigner | undefined;
  let catalogScheduler: SchedulerService | undefined;
  let operatorSource: EntityProviderConnection | undefined;
  const keptByOperator: Entity[] = [];
  // The catalog's side of the test, in one module of its own.
  const catalogProbe = createBackendModule({
    pluginId: 'catalog',
    moduleId: 'test-probe',
    register(reg) {
      reg.registerInit({
        deps: {
          scheduler: coreServices.scheduler,
          processing: catalogProcessingExtensionPoint,
          locations: catalogLocationsExtensionPoint,
        },
        async init({ scheduler, processing, locations }) {
          catalogScheduler = scheduler;
          // An entity provider of the operator's, as an identity provider's (Microsoft Graph, LDAP) is.
          processing.addEntityProvider({
            getProviderName: () => 'test-operator-source',
            async connect(connection) {
              operatorSource = connection;
            },
          });
          // Lets the test register file locations, as an operator adds a catalog file.
          locations.setAllowedLocationTypes(['url', 'file']);
        },
      });
    },
  });
  // Publishes from another plugin, as the auth module does.
  const publisher = createBackendPlugin({
    pluginId: 'cfaccess-test-publisher',
    register(reg) {
      reg.registerInit({
        deps: {
          events: eventsServiceRef,
          personSeenSigner: cloudflareAccessPersonSeenSignerServiceRef,
        },
        async init({ events, personSeenSigner }) {
          publisherEvents = events;
          signer = personSeenSigner;
        },
      });
    },
  });
  const backend = await startTestBackend({
    features: [
      catalogProbe,
      catalogPlugin,
      createProvisioningModule({ clock: options.clock }),
      eventsServiceFactory,
      publisher,
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => recordingLogger(logs),
      }),
      ...(options.features ?? []),
      mockServices.rootConfig.factory({
        data: {
          auth: PROVISIONING_AUTH_CONFIG,
          ...options.config,
          backend: { database: options.database },
          // No events backend here: the in-process bus, as replicas of one backend use.
          events: { useEventBus: 'never' },
          catalog: {
            rules: [{ allow: ['User', 'Group', 'Location'] }],
            locations: [{ type: 'file', target: FIXTURE_CATALOG }],
            providers: { cloudflareAccess: options.providerConfig ?? {} },
          },
        },
      }),
    ],
  });
  const url = `http://localhost:${
    (backend.server.address() as AddressInfo).port
  }`;

  /** The User entity of that name, or undefined when the catalog has none. */
  async function getEntity(
    kind: 'user' | 'group',
    name: string,
  ): Promise<Entity | undefined> {
    const res = await fetch(
      `${url}/api/catalog/entities/by-name/${kind}/default/${name}`,
    );
    if (res.status === 404) {
      return undefined;
    }
    if (!res.ok) {
      throw new Error(`GET ${kind} ${name}: ${res.status}`);
    }
    return res.json();
  }
  const getUser = (name: string) => getEntity('user', name);
  const getGroup = (name: string) => getEntity('group', name);

  const started = {
    logs,
    url,
    getUser,
    /** Waits (10 s at most) for the catalog to have the User. */
    waitForUser: (name: string) =>
      eventually(`user ${name}`, () => getUser(name), logs),
    getGroup,
    /** Waits (10 s at most) for the catalog to have the Group. */
    waitForGroup: (name: string) =>
      eventually(`group ${name}`, () => getGroup(name), logs),
    /** Waits (10 s at most) for the catalog not to have the Group. */
    waitForNoGroup: (name: string) =>
      eventually(
        `no group ${name}`,
        async () => ((await getGroup(name)) ? undefined : true),
        logs,
      ),
    /** Waits (10 s at most) for the catalog not to have the User. */
    waitForNoUser: (name: string) =>
      eventually(
        `no user ${name}`,
        async () => ((await getUser(name)) ? undefined : true),
        logs,
      ),
    /**
     * Publishes on the person-seen topic through the events service, signed
     * as this backend's auth module signs (a payload that is not an event is
     * published as it is); resolves once subscribers have handled it.
     */
    publish: (eventPayload: unknown) =>
      publisherEvents!.publish({
        topic: CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
        eventPayload: isEventLike(eventPayload)
          ? signer!.sign(eventPayload)
          : eventPayload,
      }),
    /** The event as this backend's auth module signs it. */
    signed: async (event: CloudflareAccessPersonSeenEvent) =>
      signer!.sign(event),
    /** Publishes on the person-seen topic as anyone else on the bus can: unsigned, or with the signature given. */
    publishForged: (eventPayload: unknown) =>
      publisherEvents!.publish({
        topic: CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
        eventPayload,
      }),
    /** Adds an entity through an entity provider of the operator's, as an identity provider's does; waits for it. */
    async addKeptByOperator(entity: Entity) {
      keptByOperator.push({
        ...entity,
        metadata: {
          ...entity.metadata,
          annotations: {
            'backstage.io/managed-by-location': 'test:operator',
            'backstage.io/managed-by-origin-location': 'test:operator',
          },
        },
      });
      await operatorSource!.applyMutation({
        type: 'full',
        entities: keptByOperator.map(kept => ({
          entity: kept,
          locationKey: 'test:operator',
        })),
      });
      await eventually(
        `${entity.kind} ${entity.metadata.name}`,
        () =>
          getEntity(
            entity.kind.toLowerCase() as 'user' | 'group',
            entity.metadata.name,
          ),
        logs,
      );
    },
    /** Adds a User kept elsewhere, as an identity provider's entity provider or org.yaml does; waits for it. */
    addUserByHand(user: { name: string; email: string; memberOf?: string[] }) {
      return started.addKeptByOperator(userEntity(user));
    },
    /**
     * Registers a catalog file through the catalog API, as anyone signed in
     * can where the permission framework is off; waits for its User.
     */
    async registerLocationWithUser(user: {
      name: string;
      email: string;
      memberOf?: string[];
    }) {
      const directory = await mkdtemp(join(tmpdir(), 'cfaccess-location-'));
      const target = join(directory, `${user.name}.yaml`);
      await writeFile(target, JSON.stringify(userEntity(user)));
      const res = await fetch(`${url}/api/catalog/locations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'file', target }),
      });
      if (!res.ok) {
        throw new Error(`POST location: ${res.status} ${await res.text()}`);
      }
      await started.waitForUser(user.name);
    },
    /** Runs the scheduled full sync now, and waits for it. */
    runSync: () => catalogScheduler!.triggerTask(PROVISIONING_SYNC_TASK_ID),
    stop: () => backend.stop(),
  };
  await started.waitForUser('grace');
  return started;
}

function userEntity(user: {
  name: string;
  email: string;
  memberOf?: string[];
}): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: user.name },
    spec: { profile: { email: user.email }, memberOf: user.memberOf ?? [] },
  };
}

export type ProvisioningBackend = Awaited<
  ReturnType<typeof startProvisioningBackend>
>;
