import { createBackend } from '@backstage/backend-defaults';
import { customCloudflareAccessSignIn } from './modules/customCloudflareAccessSignIn';

const backend = createBackend();

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(
  import('@cfaccess/plugin-auth-backend-module-cloudflare-access-provider'),
);
// An example of a custom sign-in resolver, on provider id cfaccess-custom.
backend.add(customCloudflareAccessSignIn);
backend.add(import('@backstage/plugin-catalog-backend'));
// The events bus: delivers the auth module's person-seen events to the catalog
// module across replicas, as in production.
backend.add(import('@backstage/plugin-events-backend'));
// Keeps a User entity for each person signed in with provisionUsers.
backend.add(
  import('@cfaccess/plugin-catalog-backend-module-cloudflare-access'),
);

backend.start();
