import { Content, ErrorPanel, Header, Page } from '@backstage/core-components';
import { ResponseError } from '@backstage/errors';
import { coreApis, useApi } from '@backstage/frontend-plugin-api';
import { stateFromError } from '../session/checkAccessSession';
import { isHtmlInsteadOfCodeOrJson } from '../session/pageEvents';
import { SessionProblemPanel } from './SessionProblemPanel';
import { SignInSetupPanel, type SignInSetupFailure } from './SignInSetupPanel';

/** The set-up failure a failed first refresh stands for, or undefined when it is something else. */
function setupFailureFrom(error: unknown): SignInSetupFailure | undefined {
  if (ResponseError.is(error)) {
    // A 5xx page in HTML is a proxy's (Cloudflare's own among them): an outage, not a set-up to fix.
    const contentType = error.response.headers.get('content-type') ?? '';
    return error.statusCode < 500 && contentType.startsWith('text/html')
      ? 'html'
      : undefined;
  }
  if (isHtmlInsteadOfCodeOrJson(error)) {
    return 'html';
  }
  // fetch rejects with a TypeError only when no answer may be read; by name, as it may come from another realm.
  return error instanceof Error && error.name === 'TypeError'
    ? 'unreachable'
    : undefined;
}

/** What the sign-in page shows when the first refresh fails, in place of a raw error. */
export function SignInErrorPanel(props: { error?: Error }) {
  const title =
    useApi(coreApis.config).getOptionalString('app.title') ?? 'Backstage';
  const state = stateFromError(props.error);
  const setupFailure = state ? undefined : setupFailureFrom(props.error);
  let panel;
  if (state) {
    panel = <SessionProblemPanel state={state} />;
  } else if (setupFailure) {
    panel = <SignInSetupPanel failure={setupFailure} />;
  } else {
    panel = (
      <ErrorPanel
        title="Could not sign in through Cloudflare Access"
        error={props.error ?? new Error('Unknown error')}
      />
    );
  }
  return (
    <Page themeId="home">
      <Header title={title} />
      <Content>{panel}</Content>
    </Page>
  );
}
