import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(
  import('@cfaccess/plugin-auth-backend-module-cloudflare-access-provider'),
);
backend.add(import('@backstage/plugin-catalog-backend'));

backend.start();
