/** What a get-identity answer says about a session, read with zod and checked against the token. */
import { z } from 'zod/v3';
import { IdentityCallOutcome } from './metrics';
import {
  CloudflareAccessClaims,
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
} from './types';

// An identity provider can put a person in thousands of groups; past this many the rest are ignored.
const MAX_GROUPS = 500;

const answerSchema = z.object({
  email: z.string(),
  // Access's user id, the token's `sub`; `id` is the identity provider's own id for the person.
  user_uuid: z.string(),
  id: z.string().optional(),
  name: z.string().optional(),
  groups: z.array(z.unknown()).optional(),
});

const groupSchema = z.object({
  id: z.string().trim().min(1),
  name: z.string(),
  email: z.string().optional(),
});

/** The identity behind a session, and whether it came from the token alone. */
export type SessionIdentity = {
  identity: CloudflareAccessIdentityProfile;
  degraded: boolean;
};

/** What one get-identity call told about a session. */
export type Answer =
  | { kind: 'identity'; identity: CloudflareAccessIdentityProfile }
  | { kind: 'ended' }
  | { kind: 'refused'; problem: string }
  | {
      kind: 'unusable';
      problem: string;
      /** No answer at all, rather than a useless one. */
      unanswered?: 'timeout' | 'error';
    };

export function identityFromClaims(
  claims: CloudflareAccessClaims,
): CloudflareAccessIdentityProfile {
  return {
    id: claims.sub,
    name: claims.email,
    email: claims.email,
    groups: [],
  };
}

/** The answer's groups that carry an id; a group known only by its name cannot be trusted to be the same group. */
function groupsOf(items: unknown[]): CloudflareAccessGroup[] {
  return items.slice(0, MAX_GROUPS).flatMap(item => {
    const parsed = groupSchema.safeParse(item);
    return parsed.success
      ? [{ ...parsed.data, email: parsed.data.email ?? '' }]
      : [];
  });
}

/** Reads a get-identity answer: the identity when it parses and names the token's person, else why not. */
export function readAnswer(
  body: unknown,
  claims: CloudflareAccessClaims,
): Answer {
  const parsed = answerSchema.safeParse(body);
  if (!parsed.success) {
    return {
      kind: 'unusable',
      problem: 'the answer is not an identity (no email or user_uuid)',
    };
  }
  const answer = parsed.data;
  if (answer.email.toLowerCase() !== claims.email.toLowerCase()) {
    return {
      kind: 'unusable',
      problem: "the answer's email is not the token's email",
    };
  }
  if (answer.user_uuid !== claims.sub) {
    return {
      kind: 'unusable',
      problem: "the answer's user_uuid is not the token's sub",
    };
  }
  return {
    kind: 'identity',
    identity: {
      id: answer.id ?? claims.sub,
      name: answer.name || claims.email,
      // The verified token decides who the person is.
      email: claims.email,
      groups: groupsOf(answer.groups ?? []),
    },
  };
}

export function outcomeOf(answer: Answer): IdentityCallOutcome {
  switch (answer.kind) {
    case 'identity':
      return 'ok';
    case 'unusable':
      return answer.unanswered ?? 'unusable';
    default:
      return answer.kind;
  }
}
