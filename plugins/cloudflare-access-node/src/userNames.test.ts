import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import {
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
