/** The page events after which the Access session may have ended unseen: coming back to the tab, moving in the app, a load that got Access's login page, a sign-out in another tab. */
import { SIGN_OUT_CHANNEL } from '../constants';
import type { AccessSessionWatch } from './watchAccessSession';

/**
 * What a browser says when code or data came back as an HTML page, which
 * behind Access is its login page: a code chunk that failed to load (bundler
 * or native dynamic import), or JSON that starts with `<`.
 */
const HTML_INSTEAD_OF_CODE_OR_JSON = [
  /^ChunkLoadError$/,
  /Loading (CSS )?chunk \S+ failed/,
  /Failed to fetch dynamically imported module/,
  /error loading dynamically imported module/,
  /Importing a module script failed/,
  /Unexpected token '<'/,
  /Unrecognized token '<'/,
  /<!doctype|<html/i,
];

/** True when the error is a load that got an HTML page where code or JSON was expected. */
export function isHtmlInsteadOfCodeOrJson(error: unknown): boolean {
  const { name, message } =
    error instanceof Error ? error : { name: '', message: String(error ?? '') };
  return HTML_INSTEAD_OF_CODE_OR_JSON.some(
    pattern => pattern.test(name) || pattern.test(message),
  );
}

type NavigationTarget = { navigation?: EventTarget };

/** A listener, what it listens to, and whether it does so in the capture phase. */
type Listening = [
  target: EventTarget | undefined,
  type: string,
  listener: EventListener,
  capture?: boolean,
];

/**
 * Has the watch check the session when the person comes back (the tab
 * becomes visible, the window regains focus, the page is restored from the
 * back/forward cache) or moves in the app, and at once when a load got an
 * HTML page instead of code or JSON; takes it as ended when another tab of
 * the app signs out. Returns a function that stops listening.
 */
export function listenForSessionEvents(watch: AccessSessionWatch): () => void {
  const onVisibilityChange = () => {
    if (document.visibilityState === 'visible') {
      watch.checkSoon();
    }
  };
  const onPageShow = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) {
      watch.checkSoon();
    }
  };
  const onFocusOrNavigate = () => watch.checkSoon();
  const onFailedLoad = (event: Event) => {
    const failed = event as Partial<ErrorEvent & PromiseRejectionEvent>;
    const error =
      'reason' in failed ? failed.reason : failed.error ?? failed.message;
    if (!isHtmlInsteadOfCodeOrJson(error)) {
      return;
    }
    // The session dialog explains this better than a stack trace would. Listeners added before this
    // one (a dev server's overlay) still see it: at the window, capture or not, they run in the order added.
    event.preventDefault();
    event.stopImmediatePropagation();
    const last = watch.lastState();
    if (last && last.status !== 'active') {
      return;
    }
    watch.checkNow().then(state => {
      if (!state || state.status === 'active') {
        // Not the session after all: the error is the app's, so it stays visible.
        console.error(error);
      }
    });
  };

  const { navigation } = window as NavigationTarget;
  const signOuts =
    typeof BroadcastChannel === 'function'
      ? new BroadcastChannel(SIGN_OUT_CHANNEL)
      : undefined;
  signOuts?.addEventListener('message', () => watch.endedElsewhere());
  const listeners: Listening[] = [
    [document, 'visibilitychange', onVisibilityChange],
    [window, 'pageshow', onPageShow],
    [window, 'focus', onFocusOrNavigate],
    [window, 'popstate', onFocusOrNavigate],
    // The Navigation API sees the app's own (pushState) navigations too, where the browser has it.
    [navigation, 'navigate', onFocusOrNavigate],
    // Capture, so this runs before listeners added later (error reporters, React's own logging).
    [window, 'error', onFailedLoad, true],
    [window, 'unhandledrejection', onFailedLoad, true],
  ];
  for (const [target, type, listener, capture] of listeners) {
    target?.addEventListener(type, listener, capture);
  }
  return () => {
    signOuts?.close();
    for (const [target, type, listener, capture] of listeners) {
      target?.removeEventListener(type, listener, capture);
    }
  };
}
