import {
  AppRootElementBlueprint,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
import { CloudflareAccessSessionDialog } from './components/CloudflareAccessSessionDialog';

const signInPage = SignInPageBlueprint.make({
  params: {
    loader: () =>
      import('./components/CloudflareAccessSignInPage').then(
        m => m.CloudflareAccessSignInPage,
      ),
  },
});

const sessionDialog = AppRootElementBlueprint.make({
  name: 'cloudflare-access-session',
  params: { element: <CloudflareAccessSessionDialog /> },
});

/**
 * The Cloudflare Access sign-in page and session dialog for an app on the new
 * frontend system: add it to `createApp({ features })`.
 *
 * @public
 */
export const cloudflareAccessSignInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [signInPage, sessionDialog],
});
