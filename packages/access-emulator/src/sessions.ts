import { randomNonce } from './ids';
import type { Person } from './catalog';
import { nowSeconds } from './tokens';

/** An Access session: one sign-in, one identity_nonce, one captured identity. */
export interface Session {
  identityNonce: string;
  person: Person;
  /** Epoch seconds. */
  startedAt: number;
  /** Epoch seconds; after this the person must sign in again. */
  expiresAt: number;
}

/** Live Access sessions by identity_nonce, in memory. */
export class Sessions {
  private readonly byNonce = new Map<string, Session>();

  constructor(private readonly durationSeconds: number) {}

  start(person: Person): Session {
    this.dropExpired();
    const startedAt = nowSeconds();
    const session: Session = {
      identityNonce: randomNonce(),
      person,
      startedAt,
      expiresAt: startedAt + this.durationSeconds,
    };
    this.byNonce.set(session.identityNonce, session);
    return session;
  }

  /** The session if it exists and has not run out. */
  find(identityNonce: unknown): Session | undefined {
    if (typeof identityNonce !== 'string') {
      return undefined;
    }
    const session = this.byNonce.get(identityNonce);
    if (session && session.expiresAt <= nowSeconds()) {
      this.byNonce.delete(identityNonce);
      return undefined;
    }
    return session;
  }

  end(identityNonce: string): void {
    this.byNonce.delete(identityNonce);
  }

  // Keeps memory bounded by sessions that can still be used.
  private dropExpired(): void {
    const now = nowSeconds();
    for (const [nonce, session] of this.byNonce) {
      if (session.expiresAt <= now) {
        this.byNonce.delete(nonce);
      }
    }
  }
}
