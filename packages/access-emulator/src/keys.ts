import {
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
} from 'jose';
import type { CryptoKey } from 'jose';
import type { AccessEmulatorJwk, AccessEmulatorPublicKey } from './types';

/** A signing key pair with the public parts Access publishes. */
export interface SigningKey extends AccessEmulatorPublicKey {
  privateKey: CryptoKey;
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    extractable: true,
  });
  const { n, e } = await exportJWK(publicKey);
  if (!n || !e) {
    throw new Error('The generated RSA key has no modulus or exponent');
  }
  const kty = 'RSA';
  // Access kids are 64 hex characters; a thumbprint in hex has that shape and is stable per key.
  const thumbprint = await calculateJwkThumbprint({ kty, n, e }, 'sha256');
  const kid = Buffer.from(thumbprint, 'base64url').toString('hex');
  return {
    kid,
    privateKey,
    publicKey,
    publicKeyPem: await exportSPKI(publicKey),
    jwk: { kid, kty, n, e, alg: 'RS256', use: 'sig' },
  };
}

function publicPart(key: SigningKey): AccessEmulatorPublicKey {
  const { kid, publicKeyPem, publicKey, jwk } = key;
  return { kid, publicKeyPem, publicKey, jwk };
}

/**
 * The account's signing keys: the current one, the previous one (still published after a
 * rotation, as Access keeps it for a while) and one never published, for negative tests.
 */
export class KeyRing {
  private constructor(
    private current: SigningKey,
    private previous: SigningKey | undefined,
    private readonly unpublished: SigningKey,
  ) {}

  static async create(): Promise<KeyRing> {
    const [current, unpublished] = await Promise.all([
      createSigningKey(),
      createSigningKey(),
    ]);
    return new KeyRing(current, undefined, unpublished);
  }

  /** The new key becomes current, the current one previous, and the old previous is dropped. */
  async rotate(): Promise<void> {
    const next = await createSigningKey();
    this.previous = this.current;
    this.current = next;
  }

  signingKey(which: 'current' | 'previous' | 'unpublished'): SigningKey {
    if (which === 'previous') {
      if (!this.previous) {
        throw new Error(
          'There is no previous key until keys have been rotated once',
        );
      }
      return this.previous;
    }
    return which === 'current' ? this.current : this.unpublished;
  }

  /** The JWKs served at /cdn-cgi/access/certs, current first. */
  publishedJwks(): AccessEmulatorJwk[] {
    return [this.current, this.previous]
      .filter((key): key is SigningKey => key !== undefined)
      .map(key => key.jwk);
  }

  publicKeys(): {
    current: AccessEmulatorPublicKey;
    previous?: AccessEmulatorPublicKey;
    unpublished: AccessEmulatorPublicKey;
  } {
    return {
      current: publicPart(this.current),
      ...(this.previous ? { previous: publicPart(this.previous) } : {}),
      unpublished: publicPart(this.unpublished),
    };
  }
}
