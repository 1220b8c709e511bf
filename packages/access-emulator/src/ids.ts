import { createHash, randomBytes } from 'node:crypto';

/** A UUID derived from a value, so the same email or group always gets the same id across restarts. */
export function stableUuid(namespace: string, value: string): string {
  const hex = createHash('sha256').update(`${namespace}:${value}`).digest('hex');
  // Set the version (5, name-based) and variant bits so the result parses as a real UUID.
  const version = `5${hex.slice(13, 16)}`;
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16) + hex.slice(17, 20);
  return [hex.slice(0, 8), hex.slice(8, 12), version, variant, hex.slice(20, 32)].join('-');
}

/** A random 16-character id shaped like the identity_nonce values Access issues. */
export function randomNonce(): string {
  return randomBytes(12).toString('base64url');
}
