/** How identities are compared: case folded in ASCII only, domains and group ids as Access and the operator wrote them. */
import { domainToASCII, domainToUnicode } from 'node:url';

/**
 * Lower-cases ASCII letters only. `toLowerCase` also folds letters such as
 * the Kelvin sign (U+212A) into `k`, which would let `x@\u212Apmg.com` pass
 * for `x@kpmg.com`.
 *
 * @public
 */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, letter =>
    String.fromCharCode(letter.charCodeAt(0) + 32),
  );
}

// A host name in ASCII (punycode for international names): labels of letters, digits and inner hyphens.
const ASCII_DOMAIN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * The domain of an email, lower-cased in ASCII, when the email has exactly
 * one `@` with something on each side and its domain is an ASCII host name;
 * otherwise undefined (such an email matches no allowed domain).
 *
 * @public
 */
export function emailDomain(email: string): string | undefined {
  const parts = email.split('@');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return undefined;
  }
  const domain = asciiLowerCase(parts[1]);
  if (!ASCII_DOMAIN.test(domain)) {
    return undefined;
  }
  // An A-label must be valid punycode: it decodes to a Unicode label that encodes back to it
  // (Node 20 decodes an invalid one to '', Node 24 leaves it as it is).
  for (const label of domain.split('.')) {
    if (label.startsWith('xn--')) {
      const unicode = domainToUnicode(label);
      if (!unicode || unicode === label || domainToASCII(unicode) !== label) {
        return undefined;
      }
    }
  }
  return domain;
}

/**
 * Whether an email's domain is one of `allowedDomains`, compared exactly
 * after folding case in ASCII: `x@notexample.com` and `x@sub.example.com`
 * are not in `example.com`.
 *
 * @public
 */
export function isEmailInDomains(
  email: string,
  allowedDomains: readonly string[],
): boolean {
  const domain = emailDomain(email);
  return (
    domain !== undefined &&
    allowedDomains.some(allowed => asciiLowerCase(allowed.trim()) === domain)
  );
}

// A UUID, or hex digits in dash-separated runs: its case carries no meaning.
const HEX_ID = /^[0-9a-f]+(-[0-9a-f]+)*$/i;

/**
 * The key an Access group id is matched by: UUID-like ids (hex digits and
 * dashes) fold case in ASCII; any other id is exact, because in SAML and
 * OIDC identity providers it is a name people choose, and `Admins` is not
 * `admins`.
 *
 * @public
 */
export function accessGroupIdKey(id: string): string {
  return HEX_ID.test(id) ? asciiLowerCase(id) : id;
}

/**
 * The key an `accessGroups` entry's `id` is kept under: a group email folds
 * case in ASCII, a group id as {@link accessGroupIdKey} does.
 *
 * @public
 */
export function accessGroupEntryKey(idOrEmail: string): string {
  return idOrEmail.includes('@')
    ? asciiLowerCase(idOrEmail)
    : accessGroupIdKey(idOrEmail);
}
