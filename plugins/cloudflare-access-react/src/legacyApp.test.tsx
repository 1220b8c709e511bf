import { createApp } from '@backstage/app-defaults';
import { AppRouter } from '@backstage/core-app-api';
import { identityApiRef, useApi } from '@backstage/core-plugin-api';
import { render, screen } from '@testing-library/react';
import { useEffect, useState } from 'react';
import { CloudflareAccessSessionDialog, CloudflareAccessSignInPage } from '.';
import { sessionStore } from './session/sessionStore';
import {
  notInCatalogAnswer,
  useRefreshServer,
} from './__testUtils__/refreshServer';

function SignedInAs() {
  const identityApi = useApi(identityApiRef);
  const [ref, setRef] = useState<string>();
  useEffect(() => {
    identityApi
      .getBackstageIdentity()
      .then(identity => setRef(identity.userEntityRef));
  }, [identityApi]);
  return <p>{ref ? `Signed in as ${ref}` : 'Loading'}</p>;
}

/** The app as a legacy Backstage app wires it: createApp with the sign-in page component. */
function renderLegacyApp(backendBaseUrl: string) {
  const app = createApp({
    components: { SignInPage: CloudflareAccessSignInPage },
    configLoader: async () => [
      {
        context: 'test',
        data: {
          app: { baseUrl: 'http://localhost:3000', title: 'Legacy app' },
          backend: { baseUrl: backendBaseUrl },
        },
      },
    ],
  });
  const Root = app.createRoot(
    <>
      <CloudflareAccessSessionDialog />
      <AppRouter>
        <SignedInAs />
      </AppRouter>
    </>,
  );
  render(<Root />);
}

describe('in a legacy app (createApp from @backstage/app-defaults)', () => {
  const server = useRefreshServer();
  afterEach(() => sessionStore.set({ status: 'pending' }));

  it('signs in through the cfaccess refresh endpoint of the configured backend', async () => {
    renderLegacyApp(server.baseUrl);
    expect(
      // A first render of a whole legacy app can take seconds on a loaded machine.
      await screen.findByText(
        'Signed in as user:default/ada',
        {},
        { timeout: 10_000 },
      ),
    ).toBeInTheDocument();
    expect(server.paths[0]).toBe('/api/auth/cfaccess/refresh');
  });

  it('shows the refusal instead of the app', async () => {
    server.answer(notInCatalogAnswer);
    renderLegacyApp(server.baseUrl);
    expect(
      await screen.findByText(
        'You are signed in to Cloudflare Access, but not allowed into Backstage',
        {},
        { timeout: 10_000 },
      ),
    ).toBeInTheDocument();
    expect(screen.getByTestId('refusal-details')).toHaveTextContent(
      'reason no_user',
    );
    expect(screen.queryByText(/Signed in as/)).not.toBeInTheDocument();
  });
});
