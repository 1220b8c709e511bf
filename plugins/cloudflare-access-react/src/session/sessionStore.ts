import { useSyncExternalStore } from 'react';
import type { CloudflareAccessSessionState } from '../types';

type Listener = () => void;

/** One browser page has one Access session, so its state is module-wide. */
let current: CloudflareAccessSessionState = { status: 'pending' };
const listeners = new Set<Listener>();

export const sessionStore = {
  get(): CloudflareAccessSessionState {
    return current;
  },
  set(state: CloudflareAccessSessionState): void {
    current = state;
    listeners.forEach(listener => listener());
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
};

/**
 * The Access session of the signed-in person, kept up to date while the
 * Cloudflare Access sign-in page's session watch runs: the provider info
 * (Access identity and groups) while it is active, or why it is over.
 *
 * @public
 */
export function useCloudflareAccessSession(): CloudflareAccessSessionState {
  return useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
}
