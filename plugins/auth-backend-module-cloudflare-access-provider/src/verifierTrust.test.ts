/** The verifier's trust edges: a person is never a service token, every token expires, the memo of checked tokens is bounded in bytes. */
import { CloudflareAccessAuthenticationError } from './errors';
import { MAX_TOKEN_LENGTH } from './verifier';
import { useAccessEmulator } from './__testUtils__/emulator';
import { verifierOn, VerifierOptions } from './__testUtils__/verifier';

// The memo's documented bound: 32 MiB, each token counted as its text plus about a kilobyte.
const REMEMBERED_BYTES_MAX = 32 * 1024 * 1024;
const ENTRY_OVERHEAD_BYTES = 1024;

describe('AccessTokenVerifier trust edges', () => {
  const emulator = useAccessEmulator({ audience: 'aud' });

  function verifierFor(options?: VerifierOptions) {
    return verifierOn(
      emulator,
      {
        audience: ['aud', 'other-aud'],
        serviceTokens: [
          { token: 'bot.access', subject: 'ci-bot@example.com' },
          {
            token: 'restricted.access',
            subject: 'deploy-bot@example.com',
            audience: ['other-aud'],
          },
        ],
      },
      options,
    );
  }

  it('takes a listed service token as that service token (the control)', async () => {
    const checked = await verifierFor().check(
      await emulator.mintServiceToken('bot.access'),
    );
    expect(checked.serviceToken?.token).toBe('bot.access');
  });

  it("does not take a person's token as a service token because its common_name is a listed Client ID", async () => {
    const token = await emulator.mintServiceToken('bot.access', {
      sub: 'access-id-of-mallory',
      email: 'mallory@example.com',
    });
    const checked = await verifierFor().check(token);
    expect(checked.serviceToken).toBeUndefined();
    expect(checked.claims).toMatchObject({
      sub: 'access-id-of-mallory',
      email: 'mallory@example.com',
    });
  });

  it('refuses a token signed with a published key but with no exp', async () => {
    const token = await emulator.mintToken({
      sub: 'access-id-of-ada',
      email: 'ada@example.com',
      exp: undefined,
    });
    const error = await verifierFor()
      .check(token)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudflareAccessAuthenticationError);
    // Backstage answers an AuthenticationError with a 401.
    expect((error as Error).name).toBe('AuthenticationError');
    expect((error as CloudflareAccessAuthenticationError).reason).toBe(
      'malformed',
    );
  });

  // Tokens signed and checked at once: signing runs on libuv's threads.
  const MINT_BATCH = 50;

  it('verifies an early token again once larger tokens have filled the memo past its byte bound', async () => {
    // A key set that is never fresh: every verification fetches certs, every remembered token does not.
    const verifier = verifierFor({ cooldownMs: 10 * 60_000, cacheMaxAgeMs: 0 });
    const mintLarge = (i: number) =>
      emulator.mintToken({
        sub: `access-id-${i}`,
        email: `person-${i}@example.com`,
        // Keeps the token near the longest accepted.
        padding: 'x'.repeat(11_000),
      });
    const first = await mintLarge(0);
    expect(first.length).toBeLessThan(MAX_TOKEN_LENGTH);
    await verifier.check(first);

    // Enough tokens for their bytes to pass the bound, far fewer than its 10,000 entries.
    const count =
      Math.ceil(REMEMBERED_BYTES_MAX / (first.length + ENTRY_OVERHEAD_BYTES)) +
      100;
    expect(count).toBeLessThan(5_000);
    // Minted and checked a batch at a time: all after the first, the last batch's last among the newest.
    let last = first;
    for (let start = 1; start <= count; start += MINT_BATCH) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(MINT_BATCH, count - start + 1) },
          (_, i) => mintLarge(start + i),
        ),
      );
      await Promise.all(batch.map(token => verifier.check(token)));
      last = batch[batch.length - 1];
    }
    expect(verifier.rememberedBytes).toBeLessThanOrEqual(REMEMBERED_BYTES_MAX);

    emulator.resetCounts();
    await verifier.check(last);
    expect(emulator.requestCount('certs')).toBe(0);
    await verifier.check(first);
    expect(emulator.requestCount('certs')).toBe(1);
  }, 120_000);

  /** The refusal reason of checking this token, or 'accepted'. */
  async function outcomeOf(token: string, verifier = verifierFor()) {
    try {
      await verifier.check(token);
      return 'accepted';
    } catch (error) {
      return (error as CloudflareAccessAuthenticationError).reason;
    }
  }

  it('refuses a service token that is not listed, or not listed for the audience it carries', async () => {
    expect(
      await outcomeOf(await emulator.mintServiceToken('unknown.access')),
    ).toBe('service_token');
    // restricted.access is listed for other-aud only; the emulator signs for aud.
    expect(
      await outcomeOf(await emulator.mintServiceToken('restricted.access')),
    ).toBe('service_token');
    const forOtherAud = await emulator.mintServiceToken('restricted.access', {
      aud: ['aud', 'other-aud'],
    });
    const checked = await verifierFor().check(forOtherAud);
    expect(checked.serviceToken?.subject).toBe('deploy-bot@example.com');
    // A token with neither a person's sub nor a service token's common_name is nobody.
    expect(
      await outcomeOf(await emulator.mintToken({ sub: '', email: undefined })),
    ).toBe('subject');
  });

  it('accepts a token with no type, and refuses one whose type is not app', async () => {
    expect(
      await outcomeOf(
        await emulator.mintToken({ sub: 'access-id-of-ada', type: undefined }),
      ),
    ).toBe('accepted');
    expect(
      await outcomeOf(
        await emulator.mintToken({ sub: 'access-id-of-ada', type: 'org' }),
      ),
    ).toBe('token_type');
  });

  it('checks a token of exactly the longest length, and refuses one character more unread', async () => {
    // Lengthening the signature keeps the text valid base64url unless 3 characters short of a block.
    let real = '';
    for (let extra = 0; extra < 4; extra++) {
      real = await emulator.mintToken({
        sub: 'access-id-of-ada',
        padding: 'x'.repeat(11_000 + extra),
      });
      if ((MAX_TOKEN_LENGTH - real.length) % 4 !== 3) {
        break;
      }
    }
    const longest = real.padEnd(MAX_TOKEN_LENGTH, 'A');
    expect(longest).toHaveLength(MAX_TOKEN_LENGTH);
    // Read: only the signature check fails.
    expect(await outcomeOf(longest)).toBe('signature');
    expect(await outcomeOf(`${longest}A`)).toBe('malformed');
  });

  it('remembers a checked token, so the same text is not verified again', async () => {
    const verifier = verifierFor();
    expect(verifier.rememberedBytes).toBe(0);
    await verifier.check(await emulator.mintToken({ sub: 'access-id-of-ada' }));
    expect(verifier.rememberedBytes).toBeGreaterThan(ENTRY_OVERHEAD_BYTES);
  });
  it('fetches the signing keys once for many tokens, within their max age', async () => {
    const verifier = verifierFor();
    const before = emulator.requestCount('certs');
    for (const sub of [
      'access-id-of-ada',
      'access-id-of-grace',
      'access-id-of-linus',
    ]) {
      await verifier.check(await emulator.mintToken({ sub }));
      // A few ms apart: a key set older than its max age (10 minutes) would be fetched again.
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    expect(emulator.requestCount('certs') - before).toBe(1);
  });
});
