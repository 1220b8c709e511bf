import type { DiscoveryApi } from '@backstage/frontend-plugin-api';
import type { CloudflareAccessSessionState } from '../types';
import { checkAccessSession } from './checkAccessSession';
import { listenForSessionEvents } from './pageEvents';

/** Never wait less than this between checks, however short-lived the Access token. */
const MIN_DELAY_SECONDS = 5;
/** Real Access tokens can live for a day; notice an ended session within minutes anyway. */
const MAX_DELAY_SECONDS = 300;
/** A check that failed (network, 5xx) says nothing about the session: try again later. */
const RETRY_DELAY_SECONDS = 60;
/** Page events come in bursts (focus with visibility, several navigations): one check per burst. */
export const RECHECK_AFTER_MS = 2000;

export interface AccessSessionWatch {
  /**
   * Checks at once, or joins the check under way: used when something else
   * saw a failure. Resolves with the state found; undefined when the check
   * failed or the watch is stopped.
   */
  checkNow(): Promise<CloudflareAccessSessionState | undefined>;
  /** Checks unless a check started less than RECHECK_AFTER_MS ago: for page events that come in bursts. */
  checkSoon(): void;
  /** The state of the latest check that answered. */
  lastState(): CloudflareAccessSessionState | undefined;
  /** Takes the session as ended without asking: another tab of the app signed out. */
  endedElsewhere(): void;
  stop(): void;
}

/**
 * Checks the Access session now and again just after each Access token
 * expires, which is when Access either renews the token or ends the session,
 * and after the page events of `listenForSessionEvents`. Stops checking by
 * itself once the session is over.
 */
export function watchAccessSession(
  discoveryApi: DiscoveryApi,
  onChange: (state: CloudflareAccessSessionState) => void,
): AccessSessionWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<CloudflareAccessSessionState | undefined> | undefined;
  let startedAt = 0;
  let last: CloudflareAccessSessionState | undefined;
  let stopped = false;

  async function check(): Promise<CloudflareAccessSessionState | undefined> {
    clearTimeout(timer);
    startedAt = Date.now();
    let state: CloudflareAccessSessionState | undefined;
    try {
      state = await checkAccessSession(discoveryApi);
    } catch {
      // Says nothing about the session: keep the last known state and retry later.
    }
    // Done before reporting, so that a check asked for on hearing the news is a new one.
    inFlight = undefined;
    if (stopped) {
      return undefined;
    }
    let delaySeconds = RETRY_DELAY_SECONDS;
    if (state) {
      last = state;
      onChange(state);
      if (state.status !== 'active') {
        stopped = true;
        return state;
      }
      const expiresIn =
        state.providerInfo.expiresInSeconds ?? MAX_DELAY_SECONDS;
      delaySeconds = Math.min(
        Math.max(expiresIn + 1, MIN_DELAY_SECONDS),
        MAX_DELAY_SECONDS,
      );
    }
    timer = setTimeout(start, delaySeconds * 1000);
    return state;
  }

  function start(): Promise<CloudflareAccessSessionState | undefined> {
    if (stopped) {
      return Promise.resolve(undefined);
    }
    inFlight ??= check();
    return inFlight;
  }

  start();
  const watch: AccessSessionWatch = {
    checkNow: start,
    checkSoon() {
      if (Date.now() - startedAt >= RECHECK_AFTER_MS) {
        start();
      }
    },
    lastState: () => last,
    endedElsewhere() {
      if (stopped) {
        return;
      }
      // Asking now could race the other tab's logout and still find the session active.
      stopped = true;
      clearTimeout(timer);
      last = { status: 'ended' };
      onChange(last);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      stopListening();
    },
  };
  // Listening goes on once the session is over: later failed loads still need keeping out of sight.
  const stopListening = listenForSessionEvents(watch);
  return watch;
}
