import type { DiscoveryApi } from '@backstage/frontend-plugin-api';
import { ResponseError } from '@backstage/errors';
import { PROVIDER_ID } from '../constants';
import type {
  CloudflareAccessProviderInfo,
  CloudflareAccessSessionState,
} from '../types';

/** The session state a failed refresh stands for, or undefined when it says nothing about the session. */
export function stateFromError(
  error: unknown,
): CloudflareAccessSessionState | undefined {
  if (!ResponseError.is(error)) {
    return undefined;
  }
  const reason = (error.body.error as { reason?: unknown } | undefined)?.reason;
  const withReason = typeof reason === 'string' ? { reason } : {};
  if (error.statusCode === 401) {
    return { status: 'ended', ...withReason };
  }
  if (error.statusCode === 403) {
    return { status: 'refused', message: error.cause.message, ...withReason };
  }
  return undefined;
}

/**
 * Asks the auth backend, through Access, whether the Access session still
 * signs the person in. Throws when the answer says nothing about the session
 * (network failure, 5xx).
 */
export async function checkAccessSession(
  discoveryApi: DiscoveryApi,
): Promise<CloudflareAccessSessionState> {
  const baseUrl = await discoveryApi.getBaseUrl('auth');
  const response = await fetch(`${baseUrl}/${PROVIDER_ID}/refresh`, {
    credentials: 'include',
    // Access answers an ended session with a redirect to its login page; following it would hide that.
    redirect: 'manual',
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
  });
  // Browsers make a manual redirect opaque (status 0); other fetch implementations show the 3xx.
  if (
    response.type === 'opaqueredirect' ||
    (response.status >= 300 && response.status < 400)
  ) {
    return { status: 'ended' };
  }
  if (!response.ok) {
    const error = await ResponseError.fromResponse(response);
    const state = stateFromError(error);
    if (state) {
      return state;
    }
    throw error;
  }
  const body: { providerInfo?: CloudflareAccessProviderInfo } =
    await response.json();
  if (!body.providerInfo?.cfIdentity) {
    throw new Error(
      `The ${PROVIDER_ID} refresh answer has no Access identity in providerInfo`,
    );
  }
  return { status: 'active', providerInfo: body.providerInfo };
}
