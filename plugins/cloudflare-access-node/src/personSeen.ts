/** The "person seen" event: the auth module publishes it after a provisioned sign-in, the catalog module keeps the User. */
import { z } from 'zod/v3';

/**
 * The events service topic of {@link CloudflareAccessPersonSeenEvent}.
 *
 * @public
 */
export const CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC =
  'cloudflare-access.person-seen';

/**
 * A person who signed in through Cloudflare Access and was signed in as a
 * provisioned User. Published on {@link CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC}
 * at most once per person per hour (sooner when their name or groups change).
 *
 * @public
 */
export type CloudflareAccessPersonSeenEvent = {
  version: 1;
  /** The verified Access token's email. */
  email: string;
  /** The verified Access token's `sub`: the Access user id. */
  accessUserId: string;
  /** The name from the validated get-identity answer. */
  displayName?: string;
  /** The ids of the person's Access groups, from the validated get-identity answer. */
  accessGroupIds: string[];
  /** The Group refs the auth provider's `accessGroups` maps those groups to. */
  memberOf: string[];
  /**
   * With the resolver's `provisionGroups`: the person's Access groups that
   * `accessGroups` does not map, to keep as Groups named by
   * `provisionedGroupEntityName` that the User is a member of.
   */
  provisionedGroups?: CloudflareAccessProvisionedGroup[];
  /** When the person signed in, ISO 8601. */
  seenAt: string;
  /**
   * The publishing auth module's HMAC-SHA256 over every other field,
   * base64url: the catalog module drops an event whose signature does not
   * check (see `cloudflareAccessPersonSeenSignerServiceRef`).
   */
  signature?: string;
};

/**
 * An Access group kept as a Group entity: its id (which names the entity),
 * its display name (the entity's title only) and its email.
 *
 * @public
 */
export type CloudflareAccessProvisionedGroup = {
  id: string;
  name: string;
  email?: string;
};

/**
 * The bounds of a person-seen event's fields, in characters: an id (Access
 * user or group id), a name or title, an email. The auth module keeps what
 * it announces within them; the catalog module drops an event past them.
 *
 * @public
 */
export const PERSON_SEEN_LIMITS = {
  id: 200,
  name: 200,
  email: 320,
} as const;

const { id: ID, name: NAME, email: EMAIL } = PERSON_SEEN_LIMITS;

// Every field bounded, so a malformed or hostile payload is dropped whole.
const personSeenEventSchema: z.ZodType<CloudflareAccessPersonSeenEvent> = z
  .object({
    version: z.literal(1),
    email: z.string().min(3).max(EMAIL),
    accessUserId: z.string().min(1).max(ID),
    displayName: z.string().max(NAME).optional(),
    accessGroupIds: z.array(z.string().min(1).max(ID)).max(1000),
    memberOf: z.array(z.string().min(1).max(300)).max(1000),
    provisionedGroups: z
      .array(
        z
          .object({
            id: z.string().min(1).max(ID),
            name: z.string().max(NAME),
            email: z.string().max(EMAIL).optional(),
          })
          .strict(),
      )
      .max(1000)
      .optional(),
    seenAt: z.string().datetime(),
    signature: z.string().max(100).optional(),
  })
  .strict();

/**
 * The event in a payload, or undefined when the payload is not one.
 *
 * @public
 */
export function parseCloudflareAccessPersonSeenEvent(
  payload: unknown,
): CloudflareAccessPersonSeenEvent | undefined {
  const parsed = personSeenEventSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}
