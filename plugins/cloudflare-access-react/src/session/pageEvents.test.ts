import { mockApis } from '@backstage/test-utils';
import { SIGN_OUT_CHANNEL } from '../constants';
import type { CloudflareAccessSessionState } from '../types';
import {
  accessLoginRedirect,
  signedInAnswer,
  startRefreshServer,
} from '../__testUtils__/refreshServer';
import { isHtmlInsteadOfCodeOrJson } from './pageEvents';
import {
  type AccessSessionWatch,
  RECHECK_AFTER_MS,
  watchAccessSession,
} from './watchAccessSession';

const REFRESH = '/api/auth/cfaccess/refresh';

/** A rejection event as browsers send it; jsdom has no PromiseRejectionEvent. */
function rejection(reason: unknown): Event {
  return Object.assign(new Event('unhandledrejection', { cancelable: true }), {
    reason,
  });
}

function chunkLoadError(): Error {
  return Object.assign(
    new Error('Loading chunk src_whoami_WhoAmIPage_tsx failed.'),
    { name: 'ChunkLoadError' },
  );
}

describe('the page events that have the Access session checked', () => {
  let server: Awaited<ReturnType<typeof startRefreshServer>>;
  let watch: AccessSessionWatch;
  let states: CloudflareAccessSessionState[];
  let visibility: DocumentVisibilityState;
  let now: number;

  beforeEach(async () => {
    server = await startRefreshServer(signedInAnswer());
    visibility = 'visible';
    jest
      .spyOn(document, 'visibilityState', 'get')
      .mockImplementation(() => visibility);
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(async () => {
    watch?.stop();
    delete (window as { navigation?: EventTarget }).navigation;
    jest.restoreAllMocks();
    await server.close();
  });

  /** Starts the watch and waits for its first check; the throttle window has passed unless told. */
  async function startWatch(options: { withinWindow?: boolean } = {}) {
    states = [];
    watch = watchAccessSession(
      mockApis.discovery({ baseUrl: server.baseUrl }),
      state => states.push(state),
    );
    await waitFor(() => states.length === 1);
    if (!options.withinWindow) {
      now += RECHECK_AFTER_MS;
    }
  }

  /** The refresh paths requested so far, once a request sent now has reached the server. */
  async function refreshesSoFar(): Promise<number> {
    await fetch(`${server.baseUrl}/probe`);
    return server.paths.filter(path => path === REFRESH).length;
  }

  it('checks when the tab becomes visible again, not when it is hidden', async () => {
    await startWatch();
    visibility = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    expect(await refreshesSoFar()).toBe(1);

    server.answer(accessLoginRedirect);
    visibility = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => states.length === 2);
    expect(states[1]).toEqual({ status: 'ended' });
  });

  it('checks when the window regains focus', async () => {
    await startWatch();
    window.dispatchEvent(new Event('focus'));
    await waitFor(() => server.paths.length === 2);
    expect(await refreshesSoFar()).toBe(2);
  });

  it('checks when the page comes back from the back/forward cache, not on a fresh load', async () => {
    await startWatch();
    window.dispatchEvent(
      new PageTransitionEvent('pageshow', { persisted: false }),
    );
    expect(await refreshesSoFar()).toBe(1);

    window.dispatchEvent(
      new PageTransitionEvent('pageshow', { persisted: true }),
    );
    expect(await waitForRefreshes(2)).toBe(2);
  });

  it('checks when the person moves in the app (back and forward, and the Navigation API where there is one)', async () => {
    const navigation = new EventTarget();
    (window as { navigation?: EventTarget }).navigation = navigation;
    await startWatch();
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(await waitForRefreshes(2)).toBe(2);

    now += RECHECK_AFTER_MS;
    navigation.dispatchEvent(new Event('navigate'));
    expect(await waitForRefreshes(3)).toBe(3);
  });

  it('makes one check of a burst of events', async () => {
    await startWatch();
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('focus'));
    window.dispatchEvent(
      new PageTransitionEvent('pageshow', { persisted: true }),
    );
    await waitFor(() => server.paths.length === 2);
    // Still in the window of the check above, though that one has answered.
    await waitFor(() => watch.lastState() !== undefined);
    window.dispatchEvent(new Event('focus'));
    expect(await refreshesSoFar()).toBe(2);

    now += RECHECK_AFTER_MS;
    window.dispatchEvent(new Event('focus'));
    expect(await waitForRefreshes(3)).toBe(3);
  });

  it('checks at once when a code chunk fails to load, and keeps the error from the page once the session has ended', async () => {
    await startWatch({ withinWindow: true });
    server.answer(accessLoginRedirect);
    const laterListener = jest.fn();
    window.addEventListener('unhandledrejection', laterListener);

    const event = rejection(chunkLoadError());
    window.dispatchEvent(event);
    window.removeEventListener('unhandledrejection', laterListener);

    expect(event.defaultPrevented).toBe(true);
    expect(laterListener).not.toHaveBeenCalled();
    await waitFor(() => states.length === 2);
    expect(states[1]).toEqual({ status: 'ended' });

    // Later failures of the ended session are kept out of sight too, with no new check.
    const again = new ErrorEvent('error', {
      cancelable: true,
      error: new SyntaxError(
        `Unexpected token '<', "<!DOCTYPE "... is not valid JSON`,
      ),
    });
    window.dispatchEvent(again);
    expect(again.defaultPrevented).toBe(true);
    expect(await refreshesSoFar()).toBe(2);
  });

  it('checks at once when a script or JSON turns out to be HTML', async () => {
    await startWatch({ withinWindow: true });
    server.answer(accessLoginRedirect);
    window.dispatchEvent(
      new ErrorEvent('error', {
        cancelable: true,
        message: "Uncaught SyntaxError: Unexpected token '<'",
      }),
    );
    await waitFor(() => states.length === 2);
    expect(states[1]).toEqual({ status: 'ended' });
  });

  it('puts the error back on the console when the session is fine after all', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
    await startWatch();
    const error = chunkLoadError();
    window.dispatchEvent(rejection(error));
    await waitFor(() => logged.mock.calls.length === 1);
    expect(logged).toHaveBeenCalledWith(error);
    expect(states.map(state => state.status)).toEqual(['active', 'active']);
  });

  it('leaves other errors alone', async () => {
    await startWatch();
    const event = rejection(new TypeError('x is undefined'));
    window.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(false);
    expect(await refreshesSoFar()).toBe(1);
  });

  it('takes the session as ended, without asking, when another tab of the app signs out', async () => {
    await startWatch({ withinWindow: true });
    const otherTab = new BroadcastChannel(SIGN_OUT_CHANNEL);
    otherTab.postMessage('signed-out');
    otherTab.close();

    await waitFor(() => states.length === 2);
    expect(states[1]).toEqual({ status: 'ended' });
    expect(await refreshesSoFar()).toBe(1);
  });

  it('stops listening when the watch stops', async () => {
    await startWatch();
    watch.stop();
    window.dispatchEvent(new Event('focus'));
    const event = rejection(chunkLoadError());
    window.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(false);
    expect(await refreshesSoFar()).toBe(1);
  });

  /** Waits until the server has had this many refreshes, and returns how many it had. */
  async function waitForRefreshes(count: number): Promise<number> {
    await waitFor(
      () => server.paths.filter(path => path === REFRESH).length >= count,
    );
    return refreshesSoFar();
  }
});

describe('isHtmlInsteadOfCodeOrJson', () => {
  it.each([
    ['a bundler chunk', chunkLoadError()],
    [
      'a native dynamic import (Chromium)',
      new TypeError(
        'Failed to fetch dynamically imported module: http://localhost:7000/static/a.js',
      ),
    ],
    [
      'a native dynamic import (Firefox)',
      new TypeError(
        'error loading dynamically imported module: http://localhost:7000/a.js',
      ),
    ],
    [
      'a native dynamic import (Safari)',
      new TypeError('Importing a module script failed.'),
    ],
    [
      'JSON that is HTML (Chromium)',
      new SyntaxError(
        `Unexpected token '<', "<!DOCTYPE "... is not valid JSON`,
      ),
    ],
    [
      'JSON that is HTML (Safari)',
      new SyntaxError("JSON Parse error: Unrecognized token '<'"),
    ],
  ])('recognises %s', (_, error) => {
    expect(isHtmlInsteadOfCodeOrJson(error)).toBe(true);
  });

  it.each([
    new TypeError('Failed to fetch'),
    new SyntaxError('Unexpected end of JSON input'),
    undefined,
  ])('does not take %p for an HTML page', error => {
    expect(isHtmlInsteadOfCodeOrJson(error)).toBe(false);
  });
});

async function waitFor(condition: () => boolean) {
  while (!condition()) {
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}
