import { randomBytes, randomUUID } from 'node:crypto';

/** Opaque ids per lower-cased key, random on first use, as Access keeps one id per person or group. */
export class OpaqueIds {
  private readonly byKey = new Map<string, string>();

  /** `fixed` ids (from catalog annotations or options) are used as given instead of random ones. */
  constructor(fixed: Iterable<[string, string]> = []) {
    for (const [key, id] of fixed) {
      this.byKey.set(key.toLowerCase(), id);
    }
  }

  of(key: string): string {
    const lowerKey = key.toLowerCase();
    let id = this.byKey.get(lowerKey);
    if (id === undefined) {
      id = randomUUID();
      this.byKey.set(lowerKey, id);
    }
    return id;
  }
}

/** A random 16-character id shaped like the identity_nonce values Access issues. */
export function randomNonce(): string {
  return randomBytes(12).toString('base64url');
}
