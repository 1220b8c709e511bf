/** Signs the person-seen event, so the catalog module keeps only what an auth module of this deployment announced. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { CloudflareAccessPersonSeenEvent } from './personSeen';

/**
 * The config key of the secret both modules sign and check person-seen
 * events with, when the auth and catalog plugins run in different backends.
 *
 * @public
 */
export const PERSON_SEEN_SECRET_CONFIG_KEY =
  'auth.providers.cfaccess.personSeenEventSecret';

// A secret shorter than this is a password, not a key.
const MIN_SECRET_LENGTH = 32;

/**
 * Signs person-seen events and checks their signature: an event whose
 * signature does not check was not published by an auth module holding the
 * same key, so the catalog module drops it.
 *
 * @public
 */
export type CloudflareAccessPersonSeenSigner = {
  /** The event with its `signature`. */
  sign(
    event: Omit<CloudflareAccessPersonSeenEvent, 'signature'>,
  ): CloudflareAccessPersonSeenEvent;
  /** Whether the event's signature is this key's over every other field. */
  verify(event: CloudflareAccessPersonSeenEvent): boolean;
  /** Where the key comes from: the config secret, or made at start in this process. */
  keySource: 'config' | 'process';
};

// Every field in a fixed order, so the signature does not depend on how the bus re-serializes.
function signedBytes(
  event: Omit<CloudflareAccessPersonSeenEvent, 'signature'>,
): string {
  return JSON.stringify([
    event.version,
    event.email,
    event.accessUserId,
    event.displayName ?? null,
    event.accessGroupIds,
    event.memberOf,
    event.provisionedGroups?.map(group => [
      group.id,
      group.name,
      group.email ?? null,
    ]) ?? null,
    event.seenAt,
  ]);
}

/**
 * A signer with this key. The key is the configured secret's bytes, or 32
 * random bytes made once per process when no secret is configured.
 */
export function createCloudflareAccessPersonSeenSigner(
  key: Buffer,
  keySource: CloudflareAccessPersonSeenSigner['keySource'],
): CloudflareAccessPersonSeenSigner {
  const mac = (event: Omit<CloudflareAccessPersonSeenEvent, 'signature'>) =>
    createHmac('sha256', key).update(signedBytes(event)).digest();
  return {
    keySource,
    sign(event) {
      const { signature: _dropped, ...unsigned } =
        event as CloudflareAccessPersonSeenEvent;
      return { ...unsigned, signature: mac(unsigned).toString('base64url') };
    },
    verify(event) {
      if (!event.signature) {
        return false;
      }
      const given = Buffer.from(event.signature, 'base64url');
      const expected = mac(event);
      return (
        given.length === expected.length && timingSafeEqual(given, expected)
      );
    },
  };
}

/**
 * The key `auth.providers.cfaccess.personSeenEventSecret` gives, or undefined
 * when it is not set; throws when it is too short to be a key.
 */
export function readCloudflareAccessPersonSeenSecret(
  rootConfig: Config,
): Buffer | undefined {
  const secret = rootConfig.getOptionalString(PERSON_SEEN_SECRET_CONFIG_KEY);
  if (secret === undefined) {
    return undefined;
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `Invalid Cloudflare Access config: ${PERSON_SEEN_SECRET_CONFIG_KEY} is ${secret.length} characters long, shorter than ${MIN_SECRET_LENGTH}. Use a random secret, e.g. the output of \`openssl rand -base64 32\`, the same in every backend that runs the auth or catalog plugin.`,
    );
  }
  return Buffer.from(secret);
}

/**
 * The one signer of a backend process, shared by the auth module that
 * publishes person-seen events and the catalog module that keeps them. With
 * no configured secret its key is made at start and never leaves the
 * process: events then check only where the same backend publishes and
 * keeps them (the events service delivers to local subscribers first).
 *
 * @public
 */
export const cloudflareAccessPersonSeenSignerServiceRef =
  createServiceRef<CloudflareAccessPersonSeenSigner>({
    id: 'cfaccess.person-seen-signer',
    scope: 'root',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: { config: coreServices.rootConfig },
        factory: ({ config }) => personSeenSignerFrom(config),
      }),
  });

/** The signer the config gives: its secret's, or a key made now. */
export function personSeenSignerFrom(
  rootConfig: Config,
): CloudflareAccessPersonSeenSigner {
  const configured = readCloudflareAccessPersonSeenSecret(rootConfig);
  return configured
    ? createCloudflareAccessPersonSeenSigner(configured, 'config')
    : createCloudflareAccessPersonSeenSigner(randomBytes(32), 'process');
}
