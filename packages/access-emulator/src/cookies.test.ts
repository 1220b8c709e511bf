import { readCookie, replaceCookie } from './cookies';

describe('cookies', () => {
  it('reads one cookie among others', () => {
    expect(
      readCookie('a=1; CF_Authorization=x.y.z; b=2', 'CF_Authorization'),
    ).toBe('x.y.z');
    expect(
      readCookie('XCF_Authorization=1', 'CF_Authorization'),
    ).toBeUndefined();
    expect(readCookie(undefined, 'CF_Authorization')).toBeUndefined();
  });

  it('replaces one cookie and keeps the rest', () => {
    expect(
      replaceCookie(
        'a=1; CF_Authorization=old; b=2',
        'CF_Authorization',
        'new',
      ),
    ).toBe('a=1; CF_Authorization=new; b=2');
    expect(
      replaceCookie('CF_Authorization=old', 'CF_Authorization', 'new'),
    ).toBe('CF_Authorization=new');
  });
});
