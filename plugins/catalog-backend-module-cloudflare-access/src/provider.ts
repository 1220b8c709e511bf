/** The entity provider: keeps a User for every person the auth module announces, and removes those not seen for long. */
import {
  AuthService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import {
  CatalogService,
  DeferredEntity,
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { EventsService } from '@backstage/plugin-events-node';
import {
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  parseCloudflareAccessPersonSeenEvent,
  provisionedUserEntityName,
} from '@cfaccess/plugin-cloudflare-access-node';
import { durationBefore, ProvisioningConfig } from './config';
import { Entity } from '@backstage/catalog-model';
import { ProvisionedPersonStore } from './store';
import {
  groupRefsOf,
  isProvisionedUser,
  PROVISIONING_LOCATION,
  provisionedGroupEntities,
  provisionedGroupEntity,
  provisionedUserEntity,
} from './userEntity';

/** The provider's name in the catalog; stable, as the catalog keys the provider's entities by it. */
export const PROVISIONING_PROVIDER_NAME = 'cloudflare-access-provisioning';
/** The id of the scheduled full sync. */
export const PROVISIONING_SYNC_TASK_ID = `${PROVISIONING_PROVIDER_NAME}:sync`;
const SUBSCRIBER_ID = PROVISIONING_PROVIDER_NAME;
// Bounds the catalog queries of a sync: one per this many people.
const EMAILS_PER_QUERY = 100;

function deferred(entity: Entity): DeferredEntity {
  return { entity, locationKey: PROVISIONING_LOCATION };
}

/** The entity provider that keeps the Users of provisioned people. */
export class CloudflareAccessProvisioningProvider implements EntityProvider {
  constructor(
    private readonly options: ProvisioningConfig & {
      store: ProvisionedPersonStore;
      events: EventsService;
      scheduler: SchedulerService;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
      /** The current time; the module passes the system clock. */
      clock: () => Date;
    },
  ) {}

  getProviderName(): string {
    return PROVISIONING_PROVIDER_NAME;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    const { events, scheduler, schedule, logger } = this.options;
    await events.subscribe({
      id: SUBSCRIBER_ID,
      topics: [CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC],
      onEvent: ({ eventPayload }) =>
        this.onPersonSeen(connection, eventPayload),
    });
    await scheduler.scheduleTask({
      id: PROVISIONING_SYNC_TASK_ID,
      ...schedule,
      // One replica at a time, whatever the config says.
      scope: 'global',
      fn: () => this.sync(connection),
    });
    // A restart re-emits everyone at once, rather than at the next scheduled run.
    try {
      await this.sync(connection);
    } catch (error) {
      logger.warn(
        `Could not sync the provisioned Users at start, the scheduled sync will retry: ${error}`,
      );
    }
  }

  /** Adds or updates the User of the person an event announces. */
  private async onPersonSeen(
    connection: EntityProviderConnection,
    payload: unknown,
  ): Promise<void> {
    const { store, logger, clock } = this.options;
    const event = parseCloudflareAccessPersonSeenEvent(payload);
    const entityName = event && provisionedUserEntityName(event.email);
    if (!event || !entityName) {
      logger.warn(
        `Ignored an invalid event on topic ${CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC}`,
      );
      return;
    }
    if (await this.hasUserNotProvisioned(event.email)) {
      logger.debug(
        `Not provisioning user:default/${entityName}: a User with that email is already in the catalog`,
      );
      return;
    }
    // A sighting from a clock ahead of ours counts as now, so it ages like the others.
    const seenAt = new Date(
      Math.min(Date.parse(event.seenAt), clock().getTime()),
    );
    const person = await store.recordSighting(
      {
        entityName,
        email: event.email,
        accessUserId: event.accessUserId,
        displayName: event.displayName,
        memberOf: groupRefsOf(event.memberOf),
        groups: event.provisionedGroups ?? [],
      },
      seenAt,
    );
    if (person) {
      await connection.applyMutation({
        type: 'delta',
        added: [
          deferred(provisionedUserEntity(person)),
          ...person.groups.map(group =>
            deferred(provisionedGroupEntity(group)),
          ),
        ],
        removed: [],
      });
    }
  }

  /** Whether the catalog has a User with this email that someone else keeps (org.yaml, an identity provider's entity provider). */
  private async hasUserNotProvisioned(email: string): Promise<boolean> {
    return (await this.emailsKeptElsewhere([email])).size > 0;
  }

  /** Which of these emails (lower-cased) a User that this provider does not keep has. */
  private async emailsKeptElsewhere(emails: string[]): Promise<Set<string>> {
    const { catalog, auth } = this.options;
    const kept = new Set<string>();
    for (let i = 0; i < emails.length; i += EMAILS_PER_QUERY) {
      const { items } = await catalog.getEntities(
        {
          filter: {
            kind: 'user',
            'spec.profile.email': emails.slice(i, i + EMAILS_PER_QUERY),
          },
          fields: ['kind', 'metadata.annotations', 'spec.profile.email'],
        },
        { credentials: await auth.getOwnServiceCredentials() },
      );
      for (const entity of items) {
        const email = (entity.spec?.profile as { email?: unknown })?.email;
        if (!isProvisionedUser(entity) && typeof email === 'string') {
          kept.add(email.toLowerCase());
        }
      }
    }
    return kept;
  }

  /**
   * Removes the people not seen within `removeAfter`, and those another
   * source now keeps a User for (so one email never has two Users), then
   * emits everyone left as the provider's whole set.
   */
  private async sync(connection: EntityProviderConnection): Promise<void> {
    const { store, logger, clock, removeAfter } = this.options;
    const removed = await store.removeSeenBefore(
      durationBefore(clock(), removeAfter),
    );
    let people = await store.list();
    let handedOver = 0;
    try {
      const elsewhere = await this.emailsKeptElsewhere(
        people.map(person => person.email),
      );
      const gone = people.filter(person =>
        elsewhere.has(person.email.toLowerCase()),
      );
      handedOver = await store.remove(gone.map(person => person.entityName));
      people = people.filter(person => !gone.includes(person));
    } catch (error) {
      // At start the catalog's API may not answer yet: the next sync hands them over.
      logger.debug(
        `Could not check the provisioned Users against the catalog: ${error}`,
      );
    }
    await connection.applyMutation({
      type: 'full',
      entities: [
        ...people.map(provisionedUserEntity),
        ...provisionedGroupEntities(people),
      ].map(deferred),
    });
    logger.info(
      `Synced ${people.length} provisioned Users; removed ${removed} not seen within removeAfter and ${handedOver} now kept elsewhere`,
    );
  }
}
