import { ConfigReader } from '@backstage/config';
import { randomBytes } from 'node:crypto';
import { CloudflareAccessPersonSeenEvent } from './personSeen';
import {
  createCloudflareAccessPersonSeenSigner,
  personSeenSignerFrom,
  readCloudflareAccessPersonSeenSecret,
} from './personSeenSigning';

const event: Omit<CloudflareAccessPersonSeenEvent, 'signature'> = {
  version: 1,
  email: 'ada@example.com',
  accessUserId: 'u-1',
  displayName: 'Ada',
  accessGroupIds: ['g-1'],
  memberOf: ['group:default/team-a'],
  provisionedGroups: [{ id: 'g-2', name: 'Two', email: 'two@example.com' }],
  seenAt: '2026-12-01T00:00:00.000Z',
};

describe('the person-seen signer', () => {
  const signer = createCloudflareAccessPersonSeenSigner(
    randomBytes(32),
    'process',
  );

  it('checks what it signed, after a trip through JSON', () => {
    const signed = signer.sign(event);
    expect(signed.signature).toMatch(/^[\w-]{43}$/);
    expect(signer.verify(JSON.parse(JSON.stringify(signed)))).toBe(true);
    // Signing a signed event signs its fields, not its old signature.
    expect(signer.sign(signed)).toEqual(signed);
  });

  it('refuses an unsigned event, another key, and a change to any field', () => {
    expect(signer.verify({ ...event })).toBe(false);
    const signed = signer.sign(event);
    const other = createCloudflareAccessPersonSeenSigner(
      randomBytes(32),
      'process',
    );
    expect(other.verify(signed)).toBe(false);
    const changes: Partial<CloudflareAccessPersonSeenEvent>[] = [
      { email: 'eve@example.com' },
      { accessUserId: 'u-2' },
      { displayName: 'Eve' },
      { displayName: undefined },
      { accessGroupIds: ['g-1', 'g-admins'] },
      { memberOf: ['group:default/admins'] },
      {
        provisionedGroups: [
          { id: 'g-3', name: 'Two', email: 'two@example.com' },
        ],
      },
      { provisionedGroups: [{ id: 'g-2', name: 'Two' }] },
      { provisionedGroups: undefined },
      { seenAt: '2026-12-02T00:00:00.000Z' },
      { signature: `${signed.signature}A` },
      { signature: signed.signature!.slice(0, -2) },
    ];
    for (const change of changes) {
      expect(signer.verify({ ...signed, ...change })).toBe(false);
    }
  });

  it('takes the key from auth.providers.cfaccess.personSeenEventSecret, refusing a short one', () => {
    const config = (secret?: string) =>
      new ConfigReader({
        auth: { providers: { cfaccess: { personSeenEventSecret: secret } } },
      });
    expect(readCloudflareAccessPersonSeenSecret(config())).toBeUndefined();
    const secret = 'x'.repeat(32);
    const one = createCloudflareAccessPersonSeenSigner(
      readCloudflareAccessPersonSeenSecret(config(secret))!,
      'config',
    );
    const two = createCloudflareAccessPersonSeenSigner(
      readCloudflareAccessPersonSeenSecret(config(secret))!,
      'config',
    );
    // Two backends with the same secret check each other's events.
    expect(two.verify(one.sign(event))).toBe(true);
    expect(() =>
      readCloudflareAccessPersonSeenSecret(config('x'.repeat(31))),
    ).toThrow(
      'auth.providers.cfaccess.personSeenEventSecret is 31 characters long, shorter than 32',
    );
  });

  it('makes a key per process without a secret, and uses the secret when there is one', () => {
    const made = [
      personSeenSignerFrom(new ConfigReader({})),
      personSeenSignerFrom(new ConfigReader({})),
    ];
    expect(made.map(signer => signer.keySource)).toEqual([
      'process',
      'process',
    ]);
    expect(made[1].verify(made[0].sign(event))).toBe(false);
    const secret = {
      auth: {
        providers: { cfaccess: { personSeenEventSecret: 'é'.repeat(32) } },
      },
    };
    const fromSecret = personSeenSignerFrom(new ConfigReader(secret));
    expect(fromSecret.keySource).toBe('config');
    // The key is the secret's UTF-8 bytes, as any other implementation would read it.
    const utf8 = createCloudflareAccessPersonSeenSigner(
      Buffer.from('é'.repeat(32), 'utf8'),
      'config',
    );
    expect(utf8.verify(fromSecret.sign(event))).toBe(true);
    expect(
      personSeenSignerFrom(new ConfigReader(secret)).verify(
        fromSecret.sign(event),
      ),
    ).toBe(true);
  });
});
