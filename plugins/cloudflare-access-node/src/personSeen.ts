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
 * The schema of {@link CloudflareAccessPersonSeenEvent}; every field is bounded.
 *
 * @public
 */
export const cloudflareAccessPersonSeenEventSchema = z
  .object({
    version: z.literal(1),
    /** The verified Access token's email. */
    email: z.string().min(3).max(320),
    /** The verified Access token's `sub`: the Access user id. */
    accessUserId: z.string().min(1).max(200),
    /** The name from the validated get-identity answer. */
    displayName: z.string().max(200).optional(),
    /** The ids of the person's Access groups, from the validated get-identity answer. */
    accessGroupIds: z.array(z.string().min(1).max(200)).max(1000),
    /** The Group refs the auth provider's `accessGroups` maps those groups to. */
    memberOf: z.array(z.string().min(1).max(300)).max(1000),
    /** When the person signed in, ISO 8601. */
    seenAt: z.string().datetime(),
  })
  .strict();

/**
 * A person who signed in through Cloudflare Access and was signed in as a
 * provisioned User. Published on {@link CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC}
 * at most once per person per hour (sooner when their name or groups change).
 *
 * @public
 */
export type CloudflareAccessPersonSeenEvent = z.output<
  typeof cloudflareAccessPersonSeenEventSchema
>;

/**
 * The event in a payload, or undefined when the payload is not one.
 *
 * @public
 */
export function parseCloudflareAccessPersonSeenEvent(
  payload: unknown,
): CloudflareAccessPersonSeenEvent | undefined {
  const parsed = cloudflareAccessPersonSeenEventSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}
