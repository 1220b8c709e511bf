import { resolve as resolvePath } from 'node:path';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { AccessEmulator, startAccessEmulator } from '@cfaccess/access-emulator';
import request from 'supertest';
import { customCloudflareAccessSignIn } from './customCloudflareAccessSignIn';

const EXAMPLES = resolvePath(__dirname, '../../../../examples/org.yaml');

describe('the custom Cloudflare Access sign-in example', () => {
  let emulator: AccessEmulator;

  beforeAll(async () => {
    emulator = await startAccessEmulator({
      audience: 'aud',
      users: [
        {
          email: 'linus@example.com',
          groups: [
            { id: 'g-security', name: 'Security team' },
            { id: 'g-gone', name: 'Disbanded' },
            // Made by Linus, named like a mapped team.
            { id: 'g-linus', name: 'g-everyone' },
          ],
        },
      ],
    });
  });

  afterAll(() => emulator.close());

  it('makes a person an owner of the mapped Groups that exist, and of nothing their group names say', async () => {
    const { server } = await startTestBackend({
      features: [
        authPlugin,
        catalogPlugin,
        customCloudflareAccessSignIn,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            catalog: {
              rules: [{ allow: ['User', 'Group', 'Location'] }],
              locations: [{ type: 'file', target: EXAMPLES }],
            },
            auth: {
              providers: {
                'cfaccess-custom': {
                  teamDomain: emulator.url,
                  audience: 'aud',
                  accessGroups: [
                    { id: 'g-security', entityRef: 'group:default/security' },
                    { id: 'g-gone', entityRef: 'group:default/disbanded' },
                    { id: 'g-everyone', entityRef: 'group:default/platform' },
                  ],
                },
              },
            },
          },
        }),
      ],
    });
    for (let attempt = 0; attempt < 100; attempt++) {
      const res = await request(server).get(
        '/api/catalog/entities/by-name/user/default/linus',
      );
      if (res.status === 200) break;
      await new Promise(r => setTimeout(r, 200));
    }

    const { token } = await emulator.signIn('linus@example.com');
    const res = await request(server)
      .get('/api/auth/cfaccess-custom/refresh')
      .set('cf-access-jwt-assertion', token);

    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/linus',
    );
    expect(
      res.body.backstageIdentity.identity.ownershipEntityRefs.sort(),
    ).toEqual([
      'group:default/engineering',
      'group:default/security',
      'user:default/linus',
    ]);
  }, 60_000);
});
