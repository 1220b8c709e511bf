import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import {
  provisionedGroupEntityName,
  provisionedUserEntityName,
  provisionedUserEntityRef,
} from './userNames';

describe('provisionedUserEntityName', () => {
  it('is <local part>_<domain> for a plain email, lower-cased', () => {
    expect(provisionedUserEntityName('Jane.Doe@Example.com')).toBe(
      'jane.doe_example.com',
    );
    expect(provisionedUserEntityRef('jane@example.com')).toBe(
      'user:default/jane_example.com',
    );
  });

  it('is undefined without exactly one @ with something on each side', () => {
    for (const email of ['', 'jane', '@example.com', 'jane@', 'a@b@c']) {
      expect(provisionedUserEntityName(email)).toBeUndefined();
    }
  });

  it('gives two emails two names, where a lossy rule would merge them', () => {
    const pairs = [
      ['a+b@example.com', 'a-b@example.com'],
      ['a_b@example.com', 'a@b_example.com'],
      ['jane@example.com', 'jane@example.org'],
      ['jane.doe@example.com', 'jane@doe.example.com'],
      [`${'x'.repeat(60)}1@example.com`, `${'x'.repeat(60)}2@example.com`],
      ['a-b@x.com-0123456789abcdef', 'a+b@x.com'],
    ];
    for (const [one, other] of pairs) {
      expect(provisionedUserEntityName(one)).not.toBe(
        provisionedUserEntityName(other),
      );
    }
  });

  it('always gives a valid entity name', () => {
    const emails = [
      'jane@example.com',
      'a+b@example.com',
      '_jane@example.com',
      '"quoted"@example.com',
      '..@example.com',
      'ü@exämple.com',
      `${'long.'.repeat(20)}@example.com`,
      '+++@---',
    ];
    for (const email of emails) {
      const name = provisionedUserEntityName(email)!;
      expect({
        email,
        valid: KubernetesValidatorFunctions.isValidObjectName(name),
      }).toEqual({ email, valid: true });
    }
  });
});

describe('provisionedGroupEntityName', () => {
  it('is access-group-<id> for a UUID, lower-cased', () => {
    expect(
      provisionedGroupEntityName('8C18650F-db31-4b22-b0b2-34a441fe843d'),
    ).toBe('access-group-8c18650f-db31-4b22-b0b2-34a441fe843d');
  });

  it('hashes any other id, and never gives two ids one name', () => {
    const ids = [
      'staff@example.com',
      'a--b',
      'a-b',
      '-a',
      'x'.repeat(60),
      'x'.repeat(61),
      'Admins',
    ];
    const names = ids.map(provisionedGroupEntityName);
    expect(new Set(names).size).toBe(ids.length);
    expect(provisionedGroupEntityName('staff@example.com')).toMatch(
      /^access-group\.[0-9a-f]{16}$/,
    );
    for (const name of names) {
      expect(KubernetesValidatorFunctions.isValidObjectName(name)).toBe(true);
    }
  });
});
