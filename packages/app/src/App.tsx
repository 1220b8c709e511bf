import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import { cloudflareAccessSignInModule } from '@cfaccess/cloudflare-access-react';
import { themesModule } from './themes';
import { whoAmIPlugin } from './whoami';

export default createApp({
  features: [
    catalogPlugin,
    orgPlugin,
    cloudflareAccessSignInModule,
    themesModule,
    whoAmIPlugin,
  ],
});
