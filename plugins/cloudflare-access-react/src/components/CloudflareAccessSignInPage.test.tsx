import type { IdentityApi } from '@backstage/core-plugin-api';
import { configApiRef, discoveryApiRef } from '@backstage/core-plugin-api';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { sessionStore } from '../session/sessionStore';
import {
  accessLoginRedirect,
  htmlPageAnswer,
  NOT_IN_CATALOG_MESSAGE,
  noTokenAnswer,
  notInCatalogAnswer,
  signedInAnswer,
  useRefreshServer,
} from '../__testUtils__/refreshServer';
import { CloudflareAccessSignInPage } from './CloudflareAccessSignInPage';

describe('CloudflareAccessSignInPage', () => {
  afterEach(() => sessionStore.set({ status: 'pending' }));
  const server = useRefreshServer();

  async function renderSignInPage(
    onSignInSuccess = jest.fn(),
    appBaseUrl = 'http://backstage.example.com',
  ) {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [discoveryApiRef, mockApis.discovery({ baseUrl: server.baseUrl })],
          [
            configApiRef,
            mockApis.config({ data: { app: { baseUrl: appBaseUrl } } }),
          ],
        ]}
      >
        <CloudflareAccessSignInPage onSignInSuccess={onSignInSuccess} />
      </TestApiProvider>,
    );
    return onSignInSuccess;
  }

  it('signs in with the identity from the refresh answer and watches the Access session', async () => {
    const onSignInSuccess = await renderSignInPage();
    await waitFor(() => expect(onSignInSuccess).toHaveBeenCalledTimes(1));

    const identity: IdentityApi = onSignInSuccess.mock.calls[0][0];
    await expect(identity.getBackstageIdentity()).resolves.toEqual({
      type: 'user',
      userEntityRef: 'user:default/ada',
      ownershipEntityRefs: ['user:default/ada', 'group:default/platform'],
    });
    await waitFor(() => expect(sessionStore.get().status).toBe('active'));
    const state = sessionStore.get();
    expect(
      state.status === 'active' && state.providerInfo.cfIdentity.email,
    ).toBe('ada@example.com');
  });

  it('has the Access session checked at once when a Backstage token refresh fails', async () => {
    // ProxiedSignInPage renews a Backstage token five minutes before it expires: this one at once.
    server.answer(signedInAnswer({ backstageTokenExpiresInSeconds: 60 }));
    const onSignInSuccess = await renderSignInPage();
    await waitFor(() => expect(sessionStore.get().status).toBe('active'));

    server.answer(accessLoginRedirect);
    const identity: IdentityApi = onSignInSuccess.mock.calls[0][0];
    await expect(identity.getCredentials()).rejects.toThrow();
    // The next scheduled check is minutes away: only the failure can have triggered this one.
    await waitFor(() =>
      expect(sessionStore.get()).toEqual({ status: 'ended' }),
    );
  });

  it('explains an ended Access session (401) and offers to sign in again', async () => {
    server.answer(noTokenAnswer);
    const onSignInSuccess = await renderSignInPage();

    expect(
      await screen.findByText('Your Cloudflare Access session has ended'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Sign in again' }),
    ).toBeInTheDocument();
    expect(onSignInSuccess).not.toHaveBeenCalled();
  });

  it("explains a refusal (403) with the backend's sentence, the ways on, and the reason code", async () => {
    server.answer(notInCatalogAnswer);
    await renderSignInPage();

    expect(
      await screen.findByText(
        'You are signed in to Cloudflare Access, but not allowed into Backstage',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText(NOT_IN_CATALOG_MESSAGE)).toBeInTheDocument();
    expect(
      screen.getByText('Or ask your Backstage administrator to let you in.'),
    ).toBeInTheDocument();
    expect(screen.getByTestId('refusal-details')).toHaveTextContent(
      'Details for your administrator: reason no_user',
    );

    // Another account: Access's session ends first, so that Access asks who they are on the reload.
    const logout = jest
      .spyOn(window, 'fetch')
      .mockRejectedValue(new TypeError('no Access here'));
    jest.spyOn(console, 'error').mockImplementation(() => {});
    fireEvent.click(
      screen.getByRole('button', { name: 'Sign in with another account' }),
    );
    await waitFor(() =>
      expect(logout).toHaveBeenCalledWith('/cdn-cgi/access/logout', {
        credentials: 'include',
        redirect: 'manual',
      }),
    );
    jest.restoreAllMocks();
  });

  it('names the URL, the origin and the keys to check when the refresh gets no answer (network, CORS)', async () => {
    await server.close();
    await renderSignInPage();

    expect(
      await screen.findByText(
        "Backstage's sign-in endpoint could not be reached",
      ),
    ).toBeInTheDocument();
    const problem = screen.getByTestId('sign-in-setup-problem');
    await waitFor(() =>
      expect(problem).toHaveTextContent(
        `This page (http://localhost) called ${server.baseUrl}/api/auth/cfaccess/refresh and got no answer it may read`,
      ),
    );
    expect(problem).toHaveTextContent(
      'Check backend.baseUrl and backend.cors.origin in app-config: both must be the Cloudflare Access hostname',
    );
    expect(
      screen.getByRole('link', { name: 'http://backstage.example.com' }),
    ).toHaveAttribute('href', 'http://backstage.example.com');
  });

  it('says the page is not behind Access, with a link to the Access hostname, when the refresh answers HTML', async () => {
    server.answer(htmlPageAnswer);
    await renderSignInPage();

    expect(
      await screen.findByText('This page is not behind Cloudflare Access'),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByTestId('sign-in-setup-problem')).toHaveTextContent(
        `${server.baseUrl}/api/auth/cfaccess/refresh answered with an HTML page instead of Backstage's JSON`,
      ),
    );
    expect(screen.getByTestId('open-access-hostname')).toHaveTextContent(
      'This page is not at app.baseUrl: open Backstage at http://backstage.example.com.',
    );
    expect(
      screen.getByRole('link', { name: 'http://backstage.example.com' }),
    ).toHaveAttribute('href', 'http://backstage.example.com');
  });

  it('gives no link to itself when the page is at app.baseUrl already', async () => {
    server.answer({ ...htmlPageAnswer, status: 404 });
    await renderSignInPage(jest.fn(), window.location.origin);

    expect(
      await screen.findByText('This page is not behind Cloudflare Access'),
    ).toBeInTheDocument();
    expect(
      screen.queryByTestId('open-access-hostname'),
    ).not.toBeInTheDocument();
  });

  it('shows any other failure as an error', async () => {
    server.answer({
      status: 500,
      body: { error: { name: 'Error', message: 'database is down' } },
    });
    await renderSignInPage();

    expect(
      await screen.findByText(/Could not sign in through Cloudflare Access/),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Request failed with 500 Internal Server Error'),
    ).toBeInTheDocument();
  });
});
