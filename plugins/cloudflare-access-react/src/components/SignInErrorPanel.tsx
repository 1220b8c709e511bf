import { Content, ErrorPanel, Header, Page } from '@backstage/core-components';
import { coreApis, useApi } from '@backstage/frontend-plugin-api';
import { stateFromError } from '../session/checkAccessSession';
import { SessionProblemPanel } from './SessionProblemPanel';

/** What the sign-in page shows when the first refresh fails, in place of a raw error. */
export function SignInErrorPanel(props: { error?: Error }) {
  const title =
    useApi(coreApis.config).getOptionalString('app.title') ?? 'Backstage';
  const state = stateFromError(props.error);
  return (
    <Page themeId="home">
      <Header title={title} />
      <Content>
        {state ? (
          <SessionProblemPanel state={state} />
        ) : (
          <ErrorPanel
            title="Could not sign in through Cloudflare Access"
            error={props.error ?? new Error('Unknown error')}
          />
        )}
      </Content>
    </Page>
  );
}
