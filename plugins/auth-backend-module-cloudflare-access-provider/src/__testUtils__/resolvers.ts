/** The people and the backends of the sign-in resolver tests: Access groups that differ from the catalog's on purpose. */
import { AccessEmulator, AccessEmulatorUser } from '@cfaccess/access-emulator';
import {
  CfaccessBackend,
  ON_FIXTURE_CATALOG,
  ProviderOptions,
  useCfaccess,
} from './testBackend';

/** The people the resolver tests sign in, as Access knows them. */
const PEOPLE: AccessEmulatorUser[] = [
  // Access groups that differ from the catalog memberOf on purpose.
  {
    email: 'ada@example.com',
    name: 'Ada',
    groups: [
      { id: 'g-security', name: 'Security' },
      { id: 'g-gone', name: 'not-in-catalog' },
      // Made by Ada herself, named like a team she is not in.
      { id: 'g-made-by-ada', name: 'ci' },
      // Names no catalog entity could have.
      { id: 'g-blank', name: '' },
      { id: 'g-odd', name: 'a/b:c' },
    ],
  },
  { email: 'twin@example.com', groups: [] },
  {
    email: 'ada@other.example',
    groups: [{ id: 'g-security', name: 'Security' }],
  },
  // Named like the allowed group's id, but another group.
  {
    email: 'mallory@example.com',
    groups: [{ id: 'g-mallory', name: 'g-security' }],
  },
  {
    email: 'grace@example.com',
    groups: [{ id: 'g-staff', name: 'Staff', email: 'staff@example.com' }],
  },
  { email: 'someone-else@example.com', id: 'access-id-of-ada' },
  { email: 'ghost@example.com', id: 'ghost-id' },
];

/**
 * An emulator for the tests of the enclosing describe, knowing these people,
 * and backends on it that read the fixture catalog, each with its provider
 * config (see `providerOn`).
 */
export function useResolverBackends() {
  const { emulator, useBackend, startBackend } = useCfaccess(
    {},
    { emulator: { audience: 'aud', users: PEOPLE }, ...ON_FIXTURE_CATALOG },
  );
  return {
    emulator,
    /** A backend for the tests of the enclosing describe. */
    useBackendWith: (provider: ProviderOptions) =>
      signingIn(emulator, useBackend(provider)),
    /** A backend started now, for one test. */
    startWith: async (provider: ProviderOptions) =>
      signingIn(emulator, await startBackend(provider)),
  };
}

/** What a resolver test asks of a backend on the fixture catalog. */
function signingIn(emulator: AccessEmulator, backend: CfaccessBackend) {
  return {
    async signIn(email: string) {
      const { token } = await emulator.signIn(email);
      return backend.refresh(token);
    },
    withToken: (token: string) => backend.refresh(token),
    /** The last refusal's details, as the audit trail has them for administrators. */
    details: () => backend.audited.at(-1)?.error ?? '',
  };
}
