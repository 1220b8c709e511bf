import { mockApis } from '@backstage/test-utils';
import type { CloudflareAccessSessionState } from '../types';
import {
  accessLoginRedirect,
  useRefreshServer,
} from '../__testUtils__/refreshServer';
import { watchAccessSession } from './watchAccessSession';

describe('watchAccessSession', () => {
  const server = useRefreshServer();

  /** Starts a watch and returns the states it reported, with a way to wait for the next one. */
  function watch() {
    const states: CloudflareAccessSessionState[] = [];
    let notify = () => {};
    const handle = watchAccessSession(
      mockApis.discovery({ baseUrl: server.baseUrl }),
      state => {
        states.push(state);
        notify();
      },
    );
    const nextState = () =>
      new Promise<CloudflareAccessSessionState>(resolve => {
        const count = states.length;
        notify = () =>
          states.length > count && resolve(states[states.length - 1]);
      });
    return { handle, states, nextState };
  }

  it('checks at once, reports the session, and stops once it has ended', async () => {
    const { handle, states, nextState } = watch();
    expect((await nextState()).status).toBe('active');

    server.answer(accessLoginRedirect);
    const ended = nextState();
    handle.checkNow();
    expect(await ended).toEqual({ status: 'ended' });

    // Over is over: a request started now would reach the server before this probe does.
    handle.checkNow();
    await fetch(`${server.baseUrl}/probe`);
    expect(server.paths).toEqual([
      '/api/auth/cfaccess/refresh',
      '/api/auth/cfaccess/refresh',
      '/probe',
    ]);
    expect(states.map(state => state.status)).toEqual(['active', 'ended']);
  });

  it('keeps the last state when a check fails for another reason', async () => {
    const { handle, states, nextState } = watch();
    await nextState();

    server.answer({
      status: 502,
      body: { error: { name: 'Error', message: 'bad gateway' } },
    });
    handle.checkNow();
    await waitFor(() => server.paths.length === 2);

    server.answer(accessLoginRedirect);
    const ended = nextState();
    // checkNow is ignored while the failed check is still under way; the next one sees the redirect.
    await waitFor(() => {
      handle.checkNow();
      return server.paths.length === 3;
    });
    expect(await ended).toEqual({ status: 'ended' });
    expect(states.map(state => state.status)).toEqual(['active', 'ended']);
  });

  it('stops checking when stopped', async () => {
    const { handle, nextState } = watch();
    await nextState();
    handle.stop();
    handle.checkNow();
    await fetch(`${server.baseUrl}/probe`);
    expect(server.paths).toEqual(['/api/auth/cfaccess/refresh', '/probe']);
  });
});

async function waitFor(condition: () => boolean) {
  while (!condition()) {
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}
