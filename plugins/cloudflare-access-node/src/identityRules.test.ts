import {
  accessGroupEntryKey,
  accessGroupIdKey,
  emailDomain,
  isEmailInDomains,
} from './identityRules';
import {
  provisionedGroupEntityName,
  provisionedUserEntityName,
} from './userNames';

describe('isEmailInDomains', () => {
  it('matches a domain exactly, folding case in ASCII', () => {
    expect(isEmailInDomains('x@Example.COM', ['example.com'])).toBe(true);
    expect(isEmailInDomains('x@example.com', [' EXAMPLE.com '])).toBe(true);
  });

  it('never matches a longer domain ending like an allowed one', () => {
    expect(isEmailInDomains('x@notexample.com', ['example.com'])).toBe(false);
    expect(isEmailInDomains('x@sub.example.com', ['example.com'])).toBe(false);
    expect(isEmailInDomains('x@example.com.evil', ['example.com'])).toBe(false);
  });

  it('never folds the Kelvin sign (U+212A) into k', () => {
    expect('\u212A'.toLowerCase()).toBe('k');
    expect(isEmailInDomains('x@\u212Apmg.com', ['kpmg.com'])).toBe(false);
    expect(emailDomain('x@\u212Apmg.com')).toBeUndefined();
  });

  it('refuses a domain that is not ASCII or not valid punycode', () => {
    expect(emailDomain('x@exämple.com')).toBeUndefined();
    expect(emailDomain('x@xn--zz.com')).toBeUndefined();
    expect(emailDomain('x@xn--exmple-cua.com')).toBe('xn--exmple-cua.com');
    expect(emailDomain('x@a@example.com')).toBeUndefined();
    expect(emailDomain('x@-example.com')).toBeUndefined();
  });
});

describe('Access group ids', () => {
  it('keep their case, unless they are UUID-like', () => {
    expect(accessGroupIdKey('Admins')).not.toBe(accessGroupIdKey('admins'));
    expect(accessGroupIdKey('0A1B-CC')).toBe(accessGroupIdKey('0a1b-cc'));
    expect(accessGroupEntryKey('Team@Example.com')).toBe('team@example.com');
  });

  it('name two Groups for Admins and admins', () => {
    expect(provisionedGroupEntityName('Admins')).not.toBe(
      provisionedGroupEntityName('admins'),
    );
    expect(provisionedGroupEntityName(' admins')).not.toBe(
      provisionedGroupEntityName('admins'),
    );
    expect(provisionedGroupEntityName('admins')).toBe('access-group-admins');
  });
});

describe('provisioned User names', () => {
  it('give the Kelvin sign a name of its own', () => {
    expect(provisionedUserEntityName('x@\u212Apmg.com')).not.toBe(
      provisionedUserEntityName('x@kpmg.com'),
    );
    expect(provisionedUserEntityName('x@kpmg.com')).toBe('x_kpmg.com');
  });
});
