import type { DiscoveryApi } from '@backstage/frontend-plugin-api';
import type { CloudflareAccessSessionState } from '../types';
import { checkAccessSession } from './checkAccessSession';

/** Never wait less than this between checks, however short-lived the Access token. */
const MIN_DELAY_SECONDS = 5;
/** Real Access tokens can live for a day; notice an ended session within minutes anyway. */
const MAX_DELAY_SECONDS = 300;
/** A check that failed (network, 5xx) says nothing about the session: try again later. */
const RETRY_DELAY_SECONDS = 60;

export interface AccessSessionWatch {
  /** Checks at once, unless a check is under way: used when something else saw a failure. */
  checkNow(): void;
  stop(): void;
}

/**
 * Checks the Access session now and again just after each Access token
 * expires, which is when Access either renews the token or ends the session.
 * Stops by itself once the session is over.
 */
export function watchAccessSession(
  discoveryApi: DiscoveryApi,
  onChange: (state: CloudflareAccessSessionState) => void,
): AccessSessionWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let checking = false;
  let stopped = false;

  async function check(): Promise<void> {
    clearTimeout(timer);
    checking = true;
    let delaySeconds = RETRY_DELAY_SECONDS;
    try {
      const state = await checkAccessSession(discoveryApi);
      if (stopped) {
        return;
      }
      onChange(state);
      if (state.status !== 'active') {
        stopped = true;
        return;
      }
      const expiresIn =
        state.providerInfo.expiresInSeconds ?? MAX_DELAY_SECONDS;
      delaySeconds = Math.min(
        Math.max(expiresIn + 1, MIN_DELAY_SECONDS),
        MAX_DELAY_SECONDS,
      );
    } catch {
      // Keep the last known state; the retry below decides.
    } finally {
      checking = false;
    }
    if (!stopped) {
      timer = setTimeout(check, delaySeconds * 1000);
    }
  }

  check();
  return {
    checkNow() {
      if (!stopped && !checking) {
        check();
      }
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
