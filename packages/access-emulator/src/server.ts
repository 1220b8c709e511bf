import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { strangerGroupNames } from './catalog';
import type { People } from './catalog';
import type { EndpointControls } from './controls';
import {
  AUTHORIZATION_COOKIE,
  authorizationCookie,
  clearedAuthorizationCookie,
  readCookie,
} from './cookies';
import type { AccessEdge } from './edge';
import { injectAccessHeaders } from './headers';
import {
  htmlReply,
  jsonReply,
  readForm,
  redirectReply,
  send,
  sendOnSocket,
  textReply,
} from './http';
import type { Reply } from './http';
import { accessIdentity } from './identity';
import type { KeyRing } from './keys';
import { loginPage, signedOutPage } from './pages';
import type { Session } from './sessions';
import { nowSeconds } from './tokens';
import type { Upstream } from './upstream';

export interface AccessServerParts {
  edge: AccessEdge;
  keys: KeyRing;
  people: People;
  controls: EndpointControls;
  upstream: Upstream;
  country: string;
  /** The emulator's own URL, where its login page is. */
  url: string;
  log: (line: string) => void;
}

const LOGIN_PATH = '/cdn-cgi/access/login';
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

/** Only a path on this host may follow sign-in, so the login form cannot redirect elsewhere. */
export function safeRedirect(value: string | null | undefined): string {
  // Printable ASCII only (a browser sends paths percent-encoded): no header splitting, no scheme.
  const relative = /^\/(?![/\\])[\x21-\x7e]*$/;
  return value && relative.test(value) ? value : '/';
}

function splitUrl(url: string | undefined): {
  path: string;
  query: URLSearchParams;
} {
  const [path, query] = (url ?? '/').split(/\?(.*)/s, 2);
  return { path, query: new URLSearchParams(query ?? '') };
}

/** The login page, to come back to `path` after sign-in. */
function loginLocation(path: string | undefined): string {
  return `${LOGIN_PATH}?redirect_url=${encodeURIComponent(path ?? '/')}`;
}

/** A WAF's block page: a 403 that says nothing about the Access session. */
const FIREWALL_PAGE =
  '<html><body>Request blocked by a firewall rule</body></html>';

/** What get-identity answers for a token that proves no live session: ended, revoked or invalid. */
function noSessionReply(reason: string): Reply {
  return jsonReply(401, { err: `invalid token: ${reason}` });
}

function sessionCookie(session: Session, token: string): string {
  return authorizationCookie(token, session.expiresAt - nowSeconds());
}

/** Access's verdict on an application request: a reply instead, or go ahead to the upstream. */
type Verdict =
  | { allowed: false; reply: Reply }
  | { allowed: true; setCookie?: string };

/** Serves the Access routes under /cdn-cgi/access and guards everything else. */
export function attachAccessRoutes(
  server: Server,
  parts: AccessServerParts,
): void {
  const { edge, keys, people, controls, upstream, country, url, log } = parts;

  function certs(): Reply | undefined {
    controls.record('certs');
    const mode = controls.mode('certs');
    if (mode === 'timeout') {
      return undefined;
    }
    if (mode === 'error') {
      return textReply(500, 'Internal server error (emulated certs failure).');
    }
    return jsonReply(200, { keys: keys.publishedJwks() });
  }

  async function identity(req: IncomingMessage): Promise<Reply | undefined> {
    controls.record('identity');
    const mode = controls.mode('identity');
    if (mode === 'timeout') {
      return undefined;
    }
    if (mode === 'error') {
      return jsonReply(500, { err: 'emulated get-identity failure' });
    }
    if (mode === 'error-body') {
      return jsonReply(200, {
        err: 'emulated get-identity error: no identity for this session',
      });
    }
    if (mode === 'ended') {
      return noSessionReply('ERR_NO_SESSION');
    }
    if (mode === 'login-redirect') {
      return redirectReply(`${url}${loginLocation(req.url)}`);
    }
    if (mode === 'forbidden') {
      return htmlReply(403, FIREWALL_PAGE);
    }
    const token =
      readCookie(req.headers.cookie, AUTHORIZATION_COOKIE) ??
      [req.headers['cf-access-jwt-assertion']].flat()[0];
    if (!token) {
      return jsonReply(401, {
        err: 'no CF_Authorization cookie or Cf-Access-Jwt-Assertion header',
      });
    }
    const lookup = await edge.sessionOf(token, {
      audience: false,
      allowExpired: false,
    });
    if (!lookup.ok) {
      return noSessionReply(lookup.reason);
    }
    const { session } = lookup;
    const person =
      controls.identityAs === undefined
        ? session.person
        : people.identify(controls.identityAs);
    return jsonReply(200, accessIdentity(person, session.startedAt, country), {
      'cache-control': 'no-store',
    });
  }

  async function login(req: IncomingMessage): Promise<Reply> {
    controls.record('login');
    if (req.method !== 'POST') {
      const redirectUrl = safeRedirect(
        splitUrl(req.url).query.get('redirect_url'),
      );
      return htmlReply(
        200,
        loginPage({
          people: people.list(),
          skippedUsers: people.skippedUsers,
          redirectUrl,
        }),
      );
    }
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch {
      return textReply(413, 'The sign-in form is too large.');
    }
    const email = (form.get('email') ?? '').trim();
    const redirectUrl = safeRedirect(form.get('redirect_url'));
    const refuse = (error: string) =>
      htmlReply(
        400,
        loginPage({
          people: people.list(),
          skippedUsers: people.skippedUsers,
          redirectUrl,
          error,
        }),
      );
    if (!EMAIL_PATTERN.test(email)) {
      return refuse('Enter an email address, like someone@example.com.');
    }
    const groups = strangerGroupNames((form.get('groups') ?? '').split(','));
    if (!groups.ok) {
      return refuse(groups.reason);
    }
    const { session, token } = await edge.signIn(email, groups.names);
    log(
      `signed in ${session.person.email} (identity_nonce ${session.identityNonce})`,
    );
    return redirectReply(redirectUrl, {
      'set-cookie': sessionCookie(session, token),
    });
  }

  async function logout(req: IncomingMessage): Promise<Reply> {
    controls.record('logout');
    const token = readCookie(req.headers.cookie, AUTHORIZATION_COOKIE);
    const lookup = token
      ? await edge.sessionOf(token, { audience: false, allowExpired: true })
      : undefined;
    if (lookup?.ok) {
      edge.endSession(lookup.session.identityNonce);
      log(
        `signed out ${lookup.session.person.email} (identity_nonce ${lookup.session.identityNonce})`,
      );
    }
    return htmlReply(200, signedOutPage(), {
      'set-cookie': clearedAuthorizationCookie(),
    });
  }

  /** Checks an application request and, when it may pass, rewrites its headers as Access does. */
  async function guard(req: IncomingMessage): Promise<Verdict> {
    controls.record('proxy');
    const admission = await edge.admit(req.headers);
    if (admission.kind === 'denied') {
      log(
        `refused service token ${admission.clientId} for ${req.method} ${req.url}`,
      );
      const reply = textReply(
        401,
        "Forbidden. You don't have permission to view this application: the service token " +
          '(CF-Access-Client-Id / CF-Access-Client-Secret) was not accepted.',
      );
      return { allowed: false, reply };
    }
    if (admission.kind === 'sign-in') {
      return { allowed: false, reply: redirectReply(loginLocation(req.url)) };
    }
    injectAccessHeaders(req.headers, admission);
    const refreshed = admission.kind === 'user' && admission.refreshed;
    return {
      allowed: true,
      setCookie: refreshed
        ? sessionCookie(admission.session, admission.token)
        : undefined,
    };
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { path } = splitUrl(req.url);
    if (path.startsWith('/cdn-cgi/')) {
      let reply: Reply | undefined;
      if (path === '/cdn-cgi/access/certs') {
        reply = certs();
      } else if (path === '/cdn-cgi/access/get-identity') {
        reply = await identity(req);
      } else if (path === LOGIN_PATH) {
        reply = await login(req);
      } else if (path === '/cdn-cgi/access/logout') {
        reply = await logout(req);
      } else {
        reply = textReply(404, 'Not found.');
      }
      // No reply means an emulated timeout: the request hangs until the emulator closes.
      if (reply) {
        send(res, reply);
      }
      return;
    }

    const verdict = await guard(req);
    if (verdict.allowed) {
      upstream.web(req, res, verdict.setCookie);
    } else {
      send(res, verdict.reply);
    }
  }

  async function upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> {
    if (splitUrl(req.url).path.startsWith('/cdn-cgi/')) {
      sendOnSocket(socket, textReply(404, 'Not found.'));
      return;
    }
    const verdict = await guard(req);
    // A refreshed token reaches the upstream; the browser's cookie is renewed on its next HTTP request.
    if (verdict.allowed) {
      upstream.ws(req, socket, head);
    } else {
      sendOnSocket(socket, verdict.reply);
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((error: unknown) => {
      log(`error serving ${req.method} ${req.url}: ${String(error)}`);
      if (res.headersSent) {
        res.destroy();
      } else {
        send(
          res,
          textReply(500, 'The Access emulator failed to handle this request.'),
        );
      }
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that vanishes mid-handshake must not crash the emulator.
    socket.on('error', () => socket.destroy());
    upgrade(req, socket, head).catch((error: unknown) => {
      log(`error upgrading ${req.url}: ${String(error)}`);
      sendOnSocket(
        socket,
        textReply(500, 'The Access emulator failed to handle this request.'),
      );
    });
  });
}
