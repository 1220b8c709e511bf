/** What provisioning never does: take a name or a Group another source holds, let a look-alike domain in, pass its bound, start from a config that cannot work, or leave catalog rules that let anyone add Users unwarned. */
import {
  coreServices,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { provisionedGroupEntityName } from '@cfaccess/plugin-cloudflare-access-node';
import { useProvisioning } from './__testUtils__/provisioning';
import {
  identityOf,
  ON_FIXTURE_CATALOG,
  useCfaccess,
} from './__testUtils__/testBackend';

describe('provisioning takes nothing that is not the person’s', () => {
  const { emulator, backend, seen } = useProvisioning(
    [
      { email: 'pat.o_brien@example.com', groups: [] },
      { email: 'x@\u212Apmg.com', groups: [] },
      {
        email: 'capturer@example.com',
        groups: [
          { id: 'captured', name: 'Captured' },
          { id: 'Admins', name: 'Admins' },
          { id: 'admins', name: 'admins' },
        ],
      },
    ],
    {
      provisionGroups: true,
      allowedDomains: ['example.com', 'kpmg.com'],
      readyUser: 'pat.o_brien_example.com',
    },
  );

  it('refuses a person whose provisioned name another source holds', async () => {
    const { token } = await emulator.signIn('pat.o_brien@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('provisioned_name_taken');
    expect(seen).toHaveLength(0);
  });

  it('never lets the Kelvin sign pass for k in an allowed domain', async () => {
    const { token } = await emulator.signIn('x@\u212Apmg.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('domain');
  });

  it('grants no Group of another source named like a provisioned Group, and keeps Admins apart from admins', async () => {
    const { token } = await emulator.signIn('capturer@example.com');
    const res = await backend.refresh(token);
    expect(res.status).toBe(200);
    const owned = identityOf(res).ownershipEntityRefs;
    expect(owned).not.toContain('group:default/access-group-captured');
    expect(owned).toEqual([
      'user:default/capturer_example.com',
      `group:default/${provisionedGroupEntityName('Admins')}`,
      'group:default/access-group-admins',
    ]);
  });
});

describe('provisioning bounds', () => {
  const people = ['a@example.com', 'a+1@example.com', 'a+2@example.com'];
  const { emulator, backend } = useProvisioning(
    people.map(email => ({ email, groups: [] })),
    {
      provider: { signInCacheDuration: 0 },
      resolver: { maxNewProvisionedUsersPerHour: 2 },
    },
  );

  it('refuses new people past maxNewProvisionedUsersPerHour, naming the bound, and keeps those admitted signing in', async () => {
    const statuses = [];
    for (const email of people) {
      const { token } = await emulator.signIn(email);
      const res = await backend.refresh(token);
      statuses.push([res.status, res.body.error?.reason]);
    }
    expect(statuses).toEqual([
      [200, undefined],
      [200, undefined],
      [403, 'provisioning_limit'],
    ]);
    const again = await emulator.signIn('a@example.com');
    expect((await backend.refresh(again.token)).status).toBe(200);
    expect(
      backend.audited.filter(
        event => event.meta?.reason === 'provisioning_limit',
      ),
    ).toHaveLength(1);
  });
});

describe('provisionUsers config', () => {
  const { startBackend } = useCfaccess(
    {},
    { emulator: { audience: 'aud' }, ...ON_FIXTURE_CATALOG },
  );

  it.each([
    [
      'provisionUsers without allowedDomains',
      { provisionUsers: true },
      /signIn\.resolvers\[0\]\.provisionUsers .* needs auth\.providers\.cfaccess\.signIn\.resolvers\[0\]\.allowedDomains/,
    ],
    [
      'provisionGroups without provisionUsers',
      { provisionGroups: true },
      /signIn\.resolvers\[0\]\.provisionGroups keeps Groups for provisioned Users only/,
    ],
  ])(
    'fails at start-up with %s, naming the key',
    async (_name, options, message) => {
      await expect(startBackend({ resolver: options })).rejects.toThrow(
        message,
      );
    },
  );
});

describe('catalog rules that let anyone add Users', () => {
  const warnings: string[] = [];
  const recording: RootLoggerService = {
    error() {},
    warn: message => void warnings.push(message),
    info() {},
    debug() {},
    child: () => recording,
  };
  // The test backend's catalog.rules allow User everywhere, as the old guide advised.
  useProvisioning([], {
    features: [
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => recording,
      }),
    ],
  });

  it('are warned about at start, in one line naming the fix, when provisionUsers is on', () => {
    expect(
      warnings.filter(line =>
        line.startsWith('provisionUsers is on and catalog.rules'),
      ),
    ).toEqual([
      expect.stringContaining(
        'allow User and Group only on your org locations',
      ),
    ]);
  });
});
