/** The verifier's keys over time: rotations, a certs endpoint that fails, and how long a checked token is trusted without checking it again. */
import { CloudflareAccessUnavailableError } from './errors';
import { TestClock } from './__testUtils__/clock';
import { now, reasonOf, useVerifiers } from './__testUtils__/verifier';

describe('AccessTokenVerifier', () => {
  const { emulator, verifierFor, verifierWith } = useVerifiers();

  // jose's own cooldown between key set fetches runs on real time.
  const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

  it('keeps accepting tokens of the previous key after a rotation', async () => {
    const verifier = verifierFor();
    const before = await emulator.mintToken();
    await verifier.verify(before);
    await emulator.rotateKeys();
    await new Promise(resolve => setTimeout(resolve, 100));
    await expect(verifier.verify(before)).resolves.toBeDefined();
    const byPrevious = await emulator.mintToken({}, { key: 'previous' });
    await expect(verifier.verify(byPrevious)).resolves.toBeDefined();
  });

  it('fetches the key set again for a freshly rotated key', async () => {
    const verifier = verifierFor();
    await verifier.verify(await emulator.mintToken());
    await emulator.rotateKeys();
    await new Promise(resolve => setTimeout(resolve, 100));
    emulator.resetCounts();
    const fresh = await emulator.mintToken();
    await expect(verifier.verify(fresh)).resolves.toBeDefined();
    expect(emulator.requestCount('certs')).toBe(1);
  });
  it('answers 503 while the first key set fetch fails, and recovers by itself', async () => {
    const token = await emulator.mintToken();
    const verifier = verifierFor();
    emulator.setEndpointMode('certs', 'error');
    const error = await verifier.verify(token).catch(e => e);
    expect(error).toBeInstanceOf(CloudflareAccessUnavailableError);
    expect(error.name).toBe('ServiceUnavailableError');
    expect(error.message).toMatch(
      /signing keys could not be fetched; check that the team domain is reachable/,
    );
    emulator.setEndpointMode('certs', 'ok');
    await expect(verifier.verify(token)).resolves.toBeDefined();
  });

  it('keeps verifying with the last good keys while the certs endpoint is down', async () => {
    const verifier = verifierFor('aud-one', {
      cooldownMs: 1000,
      cacheMaxAgeMs: 50,
      // Access that does not answer, for a verifier that waits 500 ms before going on without it.
      keyFetchTimeoutMs: 500,
    });
    const token = await emulator.mintToken();
    await verifier.verify(token);
    emulator.setEndpointMode('certs', 'timeout');
    await sleep(100);
    emulator.resetCounts();
    // The key set is stale: one attempt to refetch times out, then the last good keys answer.
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(emulator.requestCount('certs')).toBe(1);
    // Within the retry window nothing waits on Access again.
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(emulator.requestCount('certs')).toBe(1);
  }, 15_000);

  describe('tokens it has checked', () => {
    const strictVerifier = (options: Parameters<typeof verifierWith>[1]) =>
      verifierWith({ audience: 'aud-one', clockTolerance: '0s' }, options);

    it('remembers a checked token no longer than it lives', async () => {
      const clock = new TestClock();
      const verifier = strictVerifier({ cooldownMs: 60_000, clock });
      const token = await emulator.mintToken({ sub: 'ada', exp: now() + 2 });
      await expect(verifier.check(token)).resolves.toBeDefined();
      clock.advance(3000);
      expect(await reasonOf(verifier.check(token))).toBe('expired');
    });

    it('checks a token again once the key set may have changed', async () => {
      const verifier = strictVerifier({ cooldownMs: 100, cacheMaxAgeMs: 50 });
      const token = await emulator.mintToken({ sub: 'ada' });
      await expect(verifier.check(token)).resolves.toBeDefined();
      // Two rotations later the token's key is no longer published, and the key set is stale.
      await emulator.rotateKeys();
      await emulator.rotateKeys();
      await sleep(200);
      expect(await reasonOf(verifier.check(token))).toBe('unknown_key');
    });
  });
});
