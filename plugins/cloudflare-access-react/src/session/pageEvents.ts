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
  const onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted) {
      watch.checkSoon();
    }
  };
  const onFocusOrNavigate = () => watch.checkSoon();
  const onFailedLoad = (event: ErrorEvent | PromiseRejectionEvent) => {
    const error =
      'reason' in event ? event.reason : event.error ?? event.message;
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
  document.addEventListener('visibilitychange', onVisibilityChange);
  window.addEventListener('pageshow', onPageShow);
  window.addEventListener('focus', onFocusOrNavigate);
  window.addEventListener('popstate', onFocusOrNavigate);
  // The Navigation API sees the app's own (pushState) navigations too, where the browser has it.
  navigation?.addEventListener('navigate', onFocusOrNavigate);
  // Capture, so this runs before listeners added later (error reporters, React's own logging).
  window.addEventListener('error', onFailedLoad, true);
  window.addEventListener('unhandledrejection', onFailedLoad, true);
  return () => {
    signOuts?.close();
    document.removeEventListener('visibilitychange', onVisibilityChange);
    window.removeEventListener('pageshow', onPageShow);
    window.removeEventListener('focus', onFocusOrNavigate);
    window.removeEventListener('popstate', onFocusOrNavigate);
    navigation?.removeEventListener('navigate', onFocusOrNavigate);
    window.removeEventListener('error', onFailedLoad, true);
    window.removeEventListener('unhandledrejection', onFailedLoad, true);
  };
}
