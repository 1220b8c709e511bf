/** Verifiers of the emulator's tokens, and the reason they refuse one, for the verifier tests. */
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { AccessEmulator } from '@cfaccess/access-emulator';
import { readCloudflareAccessConfig } from '../config';
import { CloudflareAccessAuthenticationError } from '../errors';
import { AccessTokenVerifier } from '../verifier';
import { useAccessEmulator } from './emulator';

export type VerifierOptions = ConstructorParameters<
  typeof AccessTokenVerifier
>[1];

/** A verifier of the tokens of the emulator's team domain, with these provider keys (an audience at least). */
export function verifierOn(
  emulator: AccessEmulator,
  provider: JsonObject,
  options?: VerifierOptions,
) {
  return new AccessTokenVerifier(
    readCloudflareAccessConfig(
      new ConfigReader({ teamDomain: emulator.url, ...provider }),
    ),
    options,
  );
}

/**
 * An emulator for the audience aud-one, for the tests of the enclosing
 * describe, and verifiers of its tokens: `verifierFor` this audience (or
 * these), by default with a short cooldown between fetches of the key set;
 * `verifierWith` these provider keys.
 */
export function useVerifiers() {
  const emulator = useAccessEmulator({ audience: ['aud-one'] });
  return {
    emulator,
    verifierFor: (
      audience: string | string[] = 'aud-one',
      options: VerifierOptions = { cooldownMs: 50 },
    ) => verifierOn(emulator, { audience }, options),
    verifierWith: (provider: JsonObject, options?: VerifierOptions) =>
      verifierOn(emulator, provider, options),
  };
}

/** The reason of a refusal, checked to be the module's 401 (an AuthenticationError). */
export async function reasonOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloudflareAccessAuthenticationError);
  const refusal = error as CloudflareAccessAuthenticationError;
  expect(refusal.name).toBe('AuthenticationError');
  return refusal.reason;
}

/** The time now in seconds, as token claims have it. */
export const now = () => Math.floor(Date.now() / 1000);
