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
  accessGroupEntryKey,
  accessGroupIdKey,
  asciiLowerCase,
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  CloudflareAccessPersonSeenEvent,
  CloudflareAccessProvisioningPolicy,
  isCloudflareAccessProvisioned,
  isEmailInDomains,
  CloudflareAccessPersonSeenSigner,
  parseCloudflareAccessPersonSeenEvent,
  PERSON_SEEN_SECRET_CONFIG_KEY,
  provisionedGroupEntityRef,
  provisionedUserEntityName,
  userSourceOf,
} from '@cfaccess/plugin-cloudflare-access-node';
import { durationBefore, ProvisioningConfig } from './config';
import {
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { CatalogProcessor } from '@backstage/plugin-catalog-node';
import { ProvisionedPersonStore } from './store';
import { NO_PROVISIONING_METRICS, ProvisioningMetrics } from './metrics';
import {
  groupRefsOf,
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
      /** Checks that an event was published by an auth module of this deployment. */
      personSeenSigner: CloudflareAccessPersonSeenSigner;
      scheduler: SchedulerService;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
      /** What the auth provider's resolvers allow to be provisioned; undefined when none provisions. */
      policy: CloudflareAccessProvisioningPolicy | undefined;
      /** The current time; the module passes the system clock. */
      clock: () => Date;
      metrics?: ProvisioningMetrics;
    },
  ) {
    this.metrics = options.metrics ?? NO_PROVISIONING_METRICS;
    this.metrics.observeCounts(async () => {
      const people = await options.store.list();
      return {
        users: people.length,
        groups: provisionedGroupEntities(people).length,
      };
    });
  }

  private readonly metrics: ProvisioningMetrics;
  // The provisioned Groups of this replica's last sync, to count those a sync removes.
  private lastSyncedGroups?: Set<string>;

  // Set once connected; the hand-over processor needs it to remove a User at once.
  private connection?: EntityProviderConnection;
  // The provisioned emails this replica knows (ASCII lower case), so that the catalog's
  // processing of every other User costs a Set lookup, not a query.
  private readonly knownEmails = new Set<string>();

  getProviderName(): string {
    return PROVISIONING_PROVIDER_NAME;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
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

  /**
   * Adds or updates the User of the person an event announces. The event is
   * a claim, checked: signed by an auth module of this deployment (anyone
   * else on the events bus can publish on the topic), an email of an allowed domain, memberships only in the
   * Groups `accessGroups` maps the claimed Access groups to, at most
   * `maxProvisionedGroupsPerUser` Groups, never a name another source holds,
   * and no new person past `maxProvisionedUsers`. Sign-in never grants
   * ownership from what is kept here: it takes it from the live identity.
   */
  private async onPersonSeen(
    connection: EntityProviderConnection,
    payload: unknown,
  ): Promise<void> {
    const { store, logger, clock, policy } = this.options;
    const event = parseCloudflareAccessPersonSeenEvent(payload);
    const entityName = event && provisionedUserEntityName(event.email);
    if (!event || !entityName) {
      logger.warn(
        `Ignored an invalid event on topic ${CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC}`,
      );
      return;
    }
    if (!this.options.personSeenSigner.verify(event)) {
      this.warnOnce(
        'signature',
        this.options.personSeenSigner.keySource === 'process'
          ? `Ignored an event on topic ${CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC} that this backend's auth module did not sign. If the auth plugin runs in another backend, set ${PERSON_SEEN_SECRET_CONFIG_KEY} to the same secret in both; otherwise someone else publishes on the topic`
          : `Ignored an event on topic ${CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC} that was not signed with ${PERSON_SEEN_SECRET_CONFIG_KEY}: someone else publishes on the topic, or the backends have different secrets`,
      );
      logger.debug(
        `Ignored an unsigned or wrongly signed event on topic ${CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC}`,
      );
      return;
    }
    if (!policy || !isEmailInDomains(event.email, policy.allowedDomains)) {
      logger.warn(
        `Ignored an event on topic ${CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC} for an email outside the allowedDomains of every auth.providers.cfaccess sign-in resolver with provisionUsers`,
      );
      return;
    }
    const claimed = this.boundedClaims(event, policy);
    const held = await this.heldElsewhere([
      `user:default/${entityName}`,
      ...claimed.groups.map(group => provisionedGroupEntityRef(group.id)),
    ]);
    if (held.has(`user:default/${entityName}`)) {
      logger.warn(
        `Not provisioning user:default/${entityName}: another source keeps an entity of that name`,
      );
      return;
    }
    if (await this.hasUserNotProvisioned(event.email)) {
      logger.debug(
        `Not provisioning user:default/${entityName}: a User with that email is already in the catalog`,
      );
      return;
    }
    const isNew = !(await store.has(entityName));
    if (isNew && (await store.count()) >= policy.maxProvisionedUsers) {
      this.warnOnce(
        'maxProvisionedUsers',
        `Not provisioning a new User: ${policy.maxProvisionedUsers} are provisioned, the maxProvisionedUsers of auth.providers.cfaccess.signIn.resolvers; people already provisioned keep signing in`,
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
        memberOf: claimed.memberOf,
        groups: claimed.groups.filter(
          group => !held.has(provisionedGroupEntityRef(group.id)),
        ),
      },
      seenAt,
    );
    if (person) {
      if (isNew) {
        this.metrics.created();
      }
      this.knownEmails.add(asciiLowerCase(person.email));
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

  /** What an event may claim: mapped Groups of its Access groups, its unmapped groups within the bound. */
  private boundedClaims(
    event: CloudflareAccessPersonSeenEvent,
    policy: CloudflareAccessProvisioningPolicy,
  ) {
    const ids = new Set(event.accessGroupIds.map(accessGroupIdKey));
    const mapped = new Set(
      groupRefsOf([...ids].flatMap(id => policy.accessGroups.get(id) ?? [])),
    );
    const groups = policy.provisionGroups
      ? (event.provisionedGroups ?? [])
          .filter(
            group =>
              ids.has(accessGroupIdKey(group.id)) &&
              !policy.accessGroups.has(accessGroupIdKey(group.id)) &&
              !(
                group.email &&
                policy.accessGroups.has(accessGroupEntryKey(group.email))
              ),
          )
          .slice(0, policy.maxProvisionedGroupsPerUser)
      : [];
    return {
      memberOf: groupRefsOf(event.memberOf).filter(ref => mapped.has(ref)),
      groups,
    };
  }

  private readonly warned = new Set<string>();

  /** Warns once per bound reached, not once per person refused. */
  private warnOnce(bound: string, message: string) {
    if (!this.warned.has(bound)) {
      this.warned.add(bound);
      this.options.logger.warn(message);
    }
  }

  /** Which of these refs an entity that this provider does not keep holds. */
  private async heldElsewhere(refs: string[]): Promise<Set<string>> {
    const { catalog, auth } = this.options;
    const { items } = await catalog.getEntitiesByRefs(
      {
        entityRefs: refs,
        fields: [
          'kind',
          'metadata.namespace',
          'metadata.name',
          'metadata.annotations',
        ],
      },
      { credentials: await auth.getOwnServiceCredentials() },
    );
    return new Set(
      items.flatMap(entity =>
        entity && !isCloudflareAccessProvisioned(entity)
          ? [stringifyEntityRef(entity)]
          : [],
      ),
    );
  }

  /** Whether the catalog has a User with this email that the operator's sources keep (org.yaml, an identity provider's entity provider). */
  private async hasUserNotProvisioned(email: string): Promise<boolean> {
    return (await this.emailsKeptElsewhere([email])).size > 0;
  }

  /**
   * Which of these emails (ASCII lower case) a User that the operator's
   * sources keep has; Users registered through the catalog API do not count,
   * as anyone signed in may register them.
   */
  private async emailsKeptElsewhere(emails: string[]): Promise<Set<string>> {
    const { catalog, auth } = this.options;
    const kept = new Set<string>();
    const credentials = await auth.getOwnServiceCredentials();
    const registeredLocationOf = (entityRef: string) =>
      catalog.getLocationByEntity(entityRef, { credentials });
    for (let i = 0; i < emails.length; i += EMAILS_PER_QUERY) {
      const { items } = await catalog.getEntities(
        {
          filter: {
            kind: 'user',
            'spec.profile.email': emails.slice(i, i + EMAILS_PER_QUERY),
          },
          fields: [
            'kind',
            'metadata.namespace',
            'metadata.name',
            'metadata.annotations',
            'spec.profile.email',
          ],
        },
        { credentials },
      );
      for (const entity of items) {
        const email = (entity.spec?.profile as { email?: unknown })?.email;
        if (
          typeof email === 'string' &&
          (await userSourceOf(entity, registeredLocationOf)) === 'operator'
        ) {
          kept.add(asciiLowerCase(email));
        }
      }
    }
    return kept;
  }

  /**
   * Called as the catalog processes a User that another source keeps: when
   * it has the email of a provisioned person and the operator's sources keep
   * it, the provisioned User goes at once (not at the next sync), so a person
   * signed in as a provisioned duplicate in the seconds before the catalog
   * read their User is themselves again at their next sign-in.
   */
  async handOver(user: Entity): Promise<void> {
    const email = (user.spec?.profile as { email?: unknown } | undefined)
      ?.email;
    if (
      typeof email !== 'string' ||
      !this.knownEmails.has(asciiLowerCase(email)) ||
      !this.connection ||
      isCloudflareAccessProvisioned(user)
    ) {
      return;
    }
    const { store, catalog, auth, logger } = this.options;
    const credentials = await auth.getOwnServiceCredentials();
    // A User being processed for the first time is not searchable yet: ask by its origin location.
    const origin = user.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION];
    const source = await userSourceOf(user, async () =>
      origin ? catalog.getLocationByRef(origin, { credentials }) : undefined,
    );
    if (source !== 'operator') {
      return;
    }
    const people = await store.findByEmail(email);
    await store.remove(people.map(person => person.entityName));
    people.forEach(person =>
      this.knownEmails.delete(asciiLowerCase(person.email)),
    );
    if (people.length > 0) {
      this.metrics.handedOver(people.length);
      await this.connection.applyMutation({
        type: 'delta',
        added: [],
        removed: people.map(person => deferred(provisionedUserEntity(person))),
      });
      logger.info(
        `Handed ${people
          .map(person => `user:default/${person.entityName}`)
          .join(', ')} over to ${stringifyEntityRef(
          user,
        )}, which has the same email`,
      );
    }
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
        elsewhere.has(asciiLowerCase(person.email)),
      );
      handedOver = await store.remove(gone.map(person => person.entityName));
      people = people.filter(person => !gone.includes(person));
    } catch (error) {
      // At start the catalog's API may not answer yet: the next sync hands them over.
      logger.debug(
        `Could not check the provisioned Users against the catalog: ${error}`,
      );
    }
    this.knownEmails.clear();
    people.forEach(person =>
      this.knownEmails.add(asciiLowerCase(person.email)),
    );
    const groups = provisionedGroupEntities(people);
    await connection.applyMutation({
      type: 'full',
      entities: [...people.map(provisionedUserEntity), ...groups].map(deferred),
    });
    const groupRefs = new Set(groups.map(group => stringifyEntityRef(group)));
    this.metrics.removed('user', removed);
    this.metrics.handedOver(handedOver);
    this.metrics.removed(
      'group',
      [...(this.lastSyncedGroups ?? [])].filter(ref => !groupRefs.has(ref))
        .length,
    );
    this.lastSyncedGroups = groupRefs;
    logger.info(
      `Synced ${people.length} provisioned Users; removed ${removed} not seen within removeAfter and ${handedOver} now kept elsewhere`,
    );
  }
}

/**
 * The catalog processor that lets the provider hand a provisioned User over
 * as soon as the catalog processes a User of the operator's with its email.
 */
export function handOverProcessor(
  provider: CloudflareAccessProvisioningProvider,
  logger: LoggerService,
): CatalogProcessor {
  return {
    getProcessorName: () => 'CloudflareAccessProvisioningHandOver',
    async postProcessEntity(entity) {
      if (entity.kind.toLocaleLowerCase('en-US') === 'user') {
        await provider
          .handOver(entity)
          .catch(error =>
            logger.warn(
              `Could not hand a provisioned User over to ${entity.metadata.name}; the next sync will: ${error}`,
            ),
          );
      }
      return entity;
    },
  };
}
