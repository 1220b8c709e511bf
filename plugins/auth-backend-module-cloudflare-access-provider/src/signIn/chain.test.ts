/** The resolver chain's reused sign-ins belong to one provider, even where two share a cache. */
import { ConfigReader } from '@backstage/config';
import { CacheManager } from '@backstage/backend-defaults/cache';
import {
  AuthResolverContext,
  SignInInfo,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { decodeJwt, UnsecuredJWT } from 'jose';
import { readCloudflareAccessConfig } from '../config';
import { readCloudflareAccessSignInResolver } from './chain';
import { createCloudflareAccessSessionCache } from '../sessionCache';
import { createProviderContext } from '../context';
import { CloudflareAccessResult } from '../types';
import { AccessTokenVerifier } from '../verifier';
import { useAccessEmulator } from '../__testUtils__/emulator';

describe('the sign-in chain of two providers sharing one cache', () => {
  const emulator = useAccessEmulator({ audience: 'aud' });

  // The auth plugin's part: issues a Backstage token for the claims (unsigned here, the chain only decodes it).
  const ctx = {
    issueToken: async ({ claims }: { claims: Record<string, unknown> }) => ({
      token: new UnsecuredJWT(claims).setExpirationTime('1h').encode(),
    }),
  } as unknown as AuthResolverContext;

  it("never reuses the other provider's sign-in for the same Access session", async () => {
    const providerConfig = new ConfigReader({
      teamDomain: emulator.url,
      audience: 'aud',
      signIn: { resolvers: [{ resolver: 'asThisProvidersUser' }] },
    });
    const accessConfig = readCloudflareAccessConfig(providerConfig);
    // One deployment's keys and one cache, as one backend gives every provider.
    const context = createProviderContext(accessConfig);
    const rootConfig = new ConfigReader({});
    const cache = createCloudflareAccessSessionCache({
      cache: CacheManager.fromConfig(rootConfig).forPlugin('auth'),
      rootConfig,
    });
    const chainOf = (providerId: string) =>
      readCloudflareAccessSignInResolver({
        config: providerConfig,
        factories: {
          // Each provider signs the person in as a User of its own.
          asThisProvidersUser: (() => async (_info, resolverCtx) =>
            resolverCtx.issueToken({
              claims: { sub: `user:default/${providerId}-ada` },
            })) as SignInResolverFactory,
        },
        context,
        cache,
        providerId,
        audit: async () => {},
      });

    const { token } = await emulator.signIn('ada@example.com');
    const claims = await new AccessTokenVerifier(accessConfig).verify(token);
    const info: SignInInfo<CloudflareAccessResult> = {
      profile: { email: claims.email },
      result: {
        claims,
        token,
        cfIdentity: {
          id: claims.sub,
          name: claims.email,
          email: claims.email,
          groups: [],
        },
      },
    };

    const first = await chainOf('first')(info, ctx);
    const second = await chainOf('second')(info, ctx);
    expect(decodeJwt(first.token).sub).toBe('user:default/first-ada');
    expect(decodeJwt(second.token).sub).toBe('user:default/second-ada');
  });
});
