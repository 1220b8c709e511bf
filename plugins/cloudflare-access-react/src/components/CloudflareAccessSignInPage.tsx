import { ProxiedSignInPage } from '@backstage/core-components';
import {
  coreApis,
  useApi,
  type IdentityApi,
} from '@backstage/frontend-plugin-api';
import type { SignInPageProps } from '@backstage/plugin-app-react';
import { PROVIDER_ID } from '../constants';
import { CloudflareAccessIdentity } from '../session/CloudflareAccessIdentity';
import { sessionStore } from '../session/sessionStore';
import { watchAccessSession } from '../session/watchAccessSession';
import { SignInErrorPanel } from './SignInErrorPanel';

/**
 * Signs in through Cloudflare Access with no page of its own (the `cfaccess`
 * proxy provider), explains an ended session or a refusal instead of showing
 * a raw error, watches the Access session while the app runs, and signs out
 * through Access logout.
 *
 * @public
 */
export function CloudflareAccessSignInPage(props: SignInPageProps) {
  const discoveryApi = useApi(coreApis.discovery);
  const onSignInSuccess = (identity: IdentityApi) => {
    const watch = watchAccessSession(discoveryApi, sessionStore.set);
    props.onSignInSuccess(new CloudflareAccessIdentity(identity, watch));
  };
  return (
    <ProxiedSignInPage
      {...props}
      provider={PROVIDER_ID}
      onSignInSuccess={onSignInSuccess}
      ErrorComponent={SignInErrorPanel}
    />
  );
}
