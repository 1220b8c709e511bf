import { renderInTestApp } from '@backstage/test-utils';
import { act, screen } from '@testing-library/react';
import { sessionStore } from '../session/sessionStore';
import { CloudflareAccessSessionDialog } from './CloudflareAccessSessionDialog';

describe('CloudflareAccessSessionDialog', () => {
  afterEach(() => sessionStore.set({ status: 'pending' }));

  it('stays closed while the session signs the person in', async () => {
    await renderInTestApp(<CloudflareAccessSessionDialog />);
    act(() =>
      sessionStore.set({
        status: 'active',
        providerInfo: {
          claims: {},
          cfIdentity: {
            id: 'ada-id',
            name: 'Ada',
            email: 'ada@example.com',
            groups: [],
          },
        },
      }),
    );
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('opens with the way back once the session has ended', async () => {
    await renderInTestApp(<CloudflareAccessSessionDialog />);
    act(() => sessionStore.set({ status: 'ended' }));

    expect(await screen.findByRole('dialog')).toHaveTextContent(
      'Your Cloudflare Access session has ended',
    );
    expect(
      screen.getByRole('button', { name: 'Sign in again' }),
    ).toBeInTheDocument();
  });

  it('says when Access signed the session out or revoked it', async () => {
    await renderInTestApp(<CloudflareAccessSessionDialog />);
    act(() => sessionStore.set({ status: 'ended', reason: 'session_ended' }));

    expect(await screen.findByRole('dialog')).toHaveTextContent(
      'Cloudflare Access says your session was signed out or revoked',
    );
  });

  it("opens with the backend's sentence once Backstage refuses the person", async () => {
    await renderInTestApp(<CloudflareAccessSessionDialog />);
    act(() =>
      sessionStore.set({
        status: 'refused',
        message:
          'You are not in a group that may sign in to Backstage. Ask your Backstage administrator for access.',
        reason: 'group',
      }),
    );

    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent(
      'You are not in a group that may sign in to Backstage. Ask your Backstage administrator for access.',
    );
    expect(screen.getByTestId('refusal-details')).toHaveTextContent(
      'Details for your administrator: reason group',
    );
  });
});
