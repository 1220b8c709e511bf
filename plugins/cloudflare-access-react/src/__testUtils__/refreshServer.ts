import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server answers to the next refresh calls. */
export type RefreshAnswer = {
  status: number;
  /** Sent as JSON, or as it is when a string (with the content type in `headers`). */
  body?: unknown;
  headers?: Record<string, string>;
};

/** A refresh body the way the cfaccess provider sends it, with an hour-long Backstage token unless told. */
export function signedInAnswer(
  options: { backstageTokenExpiresInSeconds?: number } = {},
): RefreshAnswer {
  const payload = Buffer.from(
    JSON.stringify({
      sub: 'user:default/ada',
      exp:
        Math.floor(Date.now() / 1000) +
        (options.backstageTokenExpiresInSeconds ?? 3600),
    }),
  ).toString('base64url');
  return {
    status: 200,
    body: {
      profile: { email: 'ada@example.com', displayName: 'Ada Lovelace' },
      providerInfo: {
        claims: { email: 'ada@example.com', identity_nonce: 'nonce-1' },
        cfIdentity: {
          id: 'ada-id',
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          groups: [{ id: 'platform-id', name: 'platform', email: '' }],
        },
        expiresInSeconds: 3600,
      },
      backstageIdentity: {
        token: `eyJhbGciOiJFUzI1NiJ9.${payload}.signature`,
        identity: {
          type: 'user',
          userEntityRef: 'user:default/ada',
          ownershipEntityRefs: ['user:default/ada', 'group:default/platform'],
        },
      },
    },
  };
}

/** The sentence the backend's 403 gives a person with no User entity. */
export const NOT_IN_CATALOG_MESSAGE =
  'You passed Cloudflare Access, but Backstage has no user for you. Ask your Backstage administrator to add you.';

/** The backend's 403 for a person with no User entity: a sentence for the person, and the reason code. */
export const notInCatalogAnswer: RefreshAnswer = {
  status: 403,
  body: {
    error: {
      name: 'NotAllowedError',
      message: NOT_IN_CATALOG_MESSAGE,
      reason: 'no_user',
    },
    response: { statusCode: 403 },
  },
};

/** An HTML page where JSON was expected: a page not behind Access, whose server answers every path with the app. */
export const htmlPageAnswer: RefreshAnswer = {
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: '<!DOCTYPE html><html><body><div id="root"></div></body></html>',
};

/** The backend's 401 for a request that carries no Access token. */
export const noTokenAnswer: RefreshAnswer = {
  status: 401,
  body: {
    error: {
      name: 'AuthenticationError',
      message: 'No Cloudflare Access token on the request',
    },
    response: { statusCode: 401 },
  },
};

/** What the backend answers for an Access session that Access says was signed out or revoked. */
export const sessionEndedAnswer: RefreshAnswer = {
  status: 401,
  body: {
    error: {
      name: 'AuthenticationError',
      message:
        'The Cloudflare Access session behind this token has ended (signed out, expired or revoked); sign in to Cloudflare Access again',
      reason: 'session_ended',
    },
    response: { statusCode: 401 },
  },
};

/** What Access does once the session is over: send the browser to its login page. */
export const accessLoginRedirect: RefreshAnswer = {
  status: 302,
  headers: { location: '/cdn-cgi/access/login?redirect_url=%2F' },
};

export type RefreshServer = Awaited<ReturnType<typeof startRefreshServer>>;

/**
 * A refresh server for each test of the enclosing `describe`, answering
 * signed in until told otherwise; each test's server is copied onto the one
 * object returned, so the tests keep one handle.
 */
export function useRefreshServer(): RefreshServer {
  const server = {} as RefreshServer;
  beforeEach(async () => {
    Object.assign(server, await startRefreshServer(signedInAnswer()));
  });
  afterEach(() => server.close());
  return server;
}

/**
 * A real HTTP server standing in for Access and the auth backend at
 * `/api/auth/cfaccess/refresh`, answering what the test sets.
 */
export async function startRefreshServer(initial: RefreshAnswer) {
  let answer = initial;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url !== '/api/auth/cfaccess/refresh') {
      res.writeHead(404).end();
      return;
    }
    const { status, body, headers } = answer;
    if (body === undefined || typeof body === 'string') {
      res.writeHead(status, headers).end(body);
      return;
    }
    res
      .writeHead(status, { ...headers, 'content-type': 'application/json' })
      .end(JSON.stringify(body));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    /** Paths requested so far. */
    paths,
    answer(next: RefreshAnswer) {
      answer = next;
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
