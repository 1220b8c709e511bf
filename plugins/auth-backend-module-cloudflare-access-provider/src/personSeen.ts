/** Announces a person signed in as a provisioned User, at most once an hour, for the catalog module to keep them. */
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import {
  CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
  CloudflareAccessPersonSeenEvent,
  CloudflareAccessPersonSeenSigner,
  CloudflareAccessProvisionedGroup,
  PERSON_SEEN_LIMITS,
} from '@cfaccess/plugin-cloudflare-access-node';
import { EventsService } from '@backstage/plugin-events-node';
import { printable } from './audit';
import { SessionKeys } from './cache/sessionKeys';
import { Clock } from './clock';
import { CloudflareAccessResult } from './types';

/** The person-seen event's bounds, which the catalog module enforces by dropping the event. */
export const withinEventBounds = {
  /** A name made printable and cut; printable() adds an ellipsis past its bound, so some room is left. */
  name: (name: string) => printable(name, PERSON_SEEN_LIMITS.name - 10),
  /** Whether an Access group id fits; one that does not is left out. */
  id: (id: string) => id.length <= PERSON_SEEN_LIMITS.id,
};

/** How often one person is announced when nothing about them changes. */
export const PERSON_SEEN_PERIOD_MS = 60 * 60 * 1000;

/** Announces a person signed in as a provisioned User, with the Groups they are a member of. */
export type PersonSeenAnnouncer = (
  result: CloudflareAccessResult,
  options: {
    /** The mapped Groups that exist. */
    memberOf: () => Promise<string[]>;
    /** The unmapped Access groups kept as Groups (the resolver's provisionGroups), if any. */
    provisionedGroups?: CloudflareAccessProvisionedGroup[];
  },
) => Promise<void>;

/**
 * Publishes `cloudflare-access.person-seen` for a person signed in as a
 * provisioned User: what the verified token says (email, user id) and what
 * the validated identity adds (name, groups). A degraded identity is not
 * announced, so an outage never strips a User's groups. The same facts are
 * announced at most once per period across replicas (a marker in the shared
 * cache); a change of name or groups is announced at once. Every event is
 * signed, so the catalog module keeps only what an auth module of this
 * deployment announced.
 */
export function createPersonSeenAnnouncer(options: {
  events: EventsService;
  signer: CloudflareAccessPersonSeenSigner;
  cache: CacheService;
  keys: SessionKeys;
  logger: LoggerService;
  clock: Clock;
}): PersonSeenAnnouncer {
  const { events, signer, cache, keys, logger, clock } = options;
  return async (result, { memberOf, provisionedGroups }) => {
    if (result.serviceToken || result.degraded || !result.claims.email) {
      return;
    }
    try {
      const facts = {
        email: result.claims.email,
        accessUserId: result.claims.sub,
        displayName:
          withinEventBounds.name(result.cfIdentity.name) || undefined,
        accessGroupIds: result.cfIdentity.groups
          .map(group => group.id)
          .filter(withinEventBounds.id)
          .sort(),
        memberOf: [...(await memberOf())].sort(),
        ...(provisionedGroups && { provisionedGroups }),
      };
      const key = keys.answer('person-seen', facts);
      if (await cache.get(key)) {
        return;
      }
      const event: CloudflareAccessPersonSeenEvent = signer.sign({
        version: 1,
        ...facts,
        seenAt: new Date(clock.now()).toISOString(),
      });
      await events.publish({
        topic: CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC,
        eventPayload: event,
      });
      await cache.set(key, true, { ttl: PERSON_SEEN_PERIOD_MS });
    } catch (error) {
      // Provisioning catches up at the next announcement; the sign-in is not held up.
      logger.warn(
        `Could not announce a provisioned sign-in to the catalog: ${
          (error as Error).message
        }`,
      );
    }
  };
}
