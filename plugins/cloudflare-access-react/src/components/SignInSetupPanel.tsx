import { EmptyState } from '@backstage/core-components';
import { coreApis, useApi } from '@backstage/frontend-plugin-api';
import Link from '@material-ui/core/Link';
import Typography from '@material-ui/core/Typography';
import CloudOffIcon from '@material-ui/icons/CloudOff';
import { useEffect, useState } from 'react';
import { PROVIDER_ID } from '../constants';
import { PANEL_ICON_STYLE } from './panelIcon';

/**
 * How the first refresh failed when the set-up, not the person, is wrong:
 * - `unreachable`: no answer the page may read (network, or CORS refused it);
 * - `html`: an HTML page instead of JSON (the page is not behind Access).
 */
export type SignInSetupFailure = 'unreachable' | 'html';

/** Where the page called for its session, once the discovery API has said. */
function useRefreshUrl(): string | undefined {
  const discoveryApi = useApi(coreApis.discovery);
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    discoveryApi
      .getBaseUrl('auth')
      .then(baseUrl => setUrl(`${baseUrl}/${PROVIDER_ID}/refresh`));
  }, [discoveryApi]);
  return url;
}

/** The refresh failed in a way that names its own fix: the URL called, this page's origin, and the config keys to check. */
export function SignInSetupPanel(props: { failure: SignInSetupFailure }) {
  const refreshUrl = useRefreshUrl() ?? `/api/auth/${PROVIDER_ID}/refresh`;
  const appBaseUrl = useApi(coreApis.config).getOptionalString('app.baseUrl');
  const pageOrigin = window.location.origin;
  // The Access hostname is app.baseUrl; worth a link only when this page is elsewhere.
  const accessUrl =
    appBaseUrl && new URL(appBaseUrl).origin !== pageOrigin
      ? appBaseUrl
      : undefined;
  const openThere = accessUrl && (
    <Typography paragraph data-testid="open-access-hostname">
      This page is not at <code>app.baseUrl</code>: open Backstage at{' '}
      <Link href={accessUrl}>{accessUrl}</Link>.
    </Typography>
  );

  const { title, problem } =
    props.failure === 'html'
      ? {
          title: 'This page is not behind Cloudflare Access',
          problem: (
            <>
              {refreshUrl} answered with an HTML page instead of Backstage's
              JSON: the request did not reach the Backstage backend through
              Cloudflare Access. Open Backstage at its Cloudflare Access
              hostname, where /api/ leads to the backend.
            </>
          ),
        }
      : {
          title: "Backstage's sign-in endpoint could not be reached",
          problem: (
            <>
              This page ({pageOrigin}) called {refreshUrl} and got no answer it
              may read: the request failed on the network, or the browser
              blocked it (CORS). Check <code>backend.baseUrl</code> and{' '}
              <code>backend.cors.origin</code> in app-config: both must be the
              Cloudflare Access hostname this page is served from.
            </>
          ),
        };
  return (
    <EmptyState
      missing={{ customImage: <CloudOffIcon style={PANEL_ICON_STYLE} /> }}
      title={title}
      description={
        <>
          <Typography paragraph data-testid="sign-in-setup-problem">
            {problem}
          </Typography>
          {openThere}
        </>
      }
    />
  );
}
