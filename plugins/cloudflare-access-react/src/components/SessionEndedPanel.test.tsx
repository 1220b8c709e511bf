import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { useRefreshServer } from '../__testUtils__/refreshServer';
import { SessionEndedPanel } from './SessionEndedPanel';

describe('SessionEndedPanel', () => {
  const server = useRefreshServer();
  /** What the page did, in order: requests it sent and reloads. */
  let steps: string[];

  beforeEach(() => {
    steps = [];
    const fetchFromNode = window.fetch;
    // The server stands in for the page's own hostname, where Access answers /cdn-cgi/access/*.
    jest.spyOn(window, 'fetch').mockImplementation((input, init) => {
      steps.push(
        `fetch ${String(input)} credentials=${init?.credentials} redirect=${
          init?.redirect
        }`,
      );
      return fetchFromNode(new URL(String(input), server.baseUrl), init);
    });
    // jsdom cannot navigate: it reports a reload on the console as "Not implemented: navigation ..." (twice).
    jest.spyOn(console, 'error').mockImplementation(error => {
      if (String(error).includes('Not implemented: navigation')) {
        steps.push(`reload after ${JSON.stringify(server.paths)}`);
      }
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('ends the Access session before reloading, so Access issues a fresh token', async () => {
    await renderInTestApp(<SessionEndedPanel reason="session_ended" />);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in again' }));

    await waitFor(() => expect(steps.at(-1)).toMatch(/^reload/));
    expect([...new Set(steps)]).toEqual([
      'fetch /cdn-cgi/access/logout credentials=include redirect=manual',
      'reload after ["/cdn-cgi/access/logout"]',
    ]);
  });

  it('reloads all the same when the logout request fails', async () => {
    await server.close();
    await renderInTestApp(<SessionEndedPanel />);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in again' }));

    await waitFor(() => expect(steps.at(-1)).toMatch(/^reload/));
    expect([...new Set(steps)]).toEqual([
      'fetch /cdn-cgi/access/logout credentials=include redirect=manual',
      'reload after []',
    ]);
  });
});
