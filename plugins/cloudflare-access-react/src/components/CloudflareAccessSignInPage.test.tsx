import type { IdentityApi } from '@backstage/core-plugin-api';
import { discoveryApiRef } from '@backstage/core-plugin-api';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { screen, waitFor } from '@testing-library/react';
import { sessionStore } from '../session/sessionStore';
import {
  accessLoginRedirect,
  noTokenAnswer,
  notInCatalogAnswer,
  signedInAnswer,
  startRefreshServer,
} from '../__testUtils__/refreshServer';
import { CloudflareAccessSignInPage } from './CloudflareAccessSignInPage';

describe('CloudflareAccessSignInPage', () => {
  let server: Awaited<ReturnType<typeof startRefreshServer>>;

  beforeEach(async () => {
    server = await startRefreshServer(signedInAnswer());
  });
  afterEach(async () => {
    await server.close();
    sessionStore.set({ status: 'pending' });
  });

  async function renderSignInPage(onSignInSuccess = jest.fn()) {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [discoveryApiRef, mockApis.discovery({ baseUrl: server.baseUrl })],
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

  it("explains a refusal (403) with the backend's reason and an Access sign-out link", async () => {
    server.answer(notInCatalogAnswer);
    await renderSignInPage();

    expect(
      await screen.findByText(
        'You are signed in to Cloudflare Access, but not allowed into Backstage',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        'nobody@example.com passed Cloudflare Access but is not a Backstage user',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Sign out of Cloudflare Access' }),
    ).toHaveAttribute('href', '/cdn-cgi/access/logout');
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
