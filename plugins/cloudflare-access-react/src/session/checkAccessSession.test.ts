import { ResponseError } from '@backstage/errors';
import { mockApis } from '@backstage/test-utils';
import {
  accessLoginRedirect,
  noTokenAnswer,
  NOT_IN_CATALOG_MESSAGE,
  notInCatalogAnswer,
  sessionEndedAnswer,
  useRefreshServer,
} from '../__testUtils__/refreshServer';
import { checkAccessSession } from './checkAccessSession';

describe('checkAccessSession', () => {
  const server = useRefreshServer();
  const check = () =>
    checkAccessSession(mockApis.discovery({ baseUrl: server.baseUrl }));

  it('is active with the provider info while the backend signs the person in', async () => {
    const state = await check();
    expect(state.status).toBe('active');
    expect(
      state.status === 'active' && state.providerInfo.cfIdentity.groups,
    ).toEqual([{ id: 'platform-id', name: 'platform', email: '' }]);
    expect(server.paths).toEqual(['/api/auth/cfaccess/refresh']);
  });

  it('has ended when Access redirects to its login page, without following it', async () => {
    server.answer(accessLoginRedirect);
    await expect(check()).resolves.toEqual({ status: 'ended' });
    expect(server.paths).toEqual(['/api/auth/cfaccess/refresh']);
  });

  it('has ended when the backend finds no Access token (401)', async () => {
    server.answer(noTokenAnswer);
    await expect(check()).resolves.toEqual({ status: 'ended' });
  });

  it('has ended with the reason when Access says the session was signed out or revoked', async () => {
    server.answer(sessionEndedAnswer);
    await expect(check()).resolves.toEqual({
      status: 'ended',
      reason: 'session_ended',
    });
  });

  it("is refused with the backend's sentence and reason code on a 403", async () => {
    server.answer(notInCatalogAnswer);
    await expect(check()).resolves.toEqual({
      status: 'refused',
      message: NOT_IN_CATALOG_MESSAGE,
      reason: 'no_user',
    });
  });

  it('is refused with the message alone from a backend that gives no reason code', async () => {
    server.answer({
      status: 403,
      body: {
        error: { name: 'NotAllowedError', message: 'Not allowed' },
        response: { statusCode: 403 },
      },
    });
    await expect(check()).resolves.toEqual({
      status: 'refused',
      message: 'Not allowed',
    });
  });

  it('throws on an answer that says nothing about the session', async () => {
    server.answer({
      status: 503,
      body: { error: { name: 'Error', message: 'down' } },
    });
    const error = await check().catch(e => e);
    expect(ResponseError.is(error) && error.statusCode).toBe(503);
  });

  it('throws when the answer is not from the cfaccess provider', async () => {
    server.answer({ status: 200, body: { profile: {} } });
    await expect(check()).rejects.toThrow('no Access identity in providerInfo');
  });
});
