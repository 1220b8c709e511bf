import { createBackend } from '@backstage/backend-defaults';

// The backend each bench run measures: auth, catalog and one Cloudflare Access
// module, chosen by BENCH_ACCESS_MODULE; config comes from --config.
const accessModules = {
  ours: () =>
    import('@cfaccess/plugin-auth-backend-module-cloudflare-access-provider'),
  // Installed outside the workspace by the bench (upstreamModule.ts).
  upstream: () => import(process.env.BENCH_UPSTREAM_MODULE!),
};

const name = process.env.BENCH_ACCESS_MODULE;
if (name !== 'ours' && name !== 'upstream') {
  throw new Error(`BENCH_ACCESS_MODULE must be ours or upstream, got ${name}`);
}

const backend = createBackend();
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(accessModules[name]());
backend.add(import('@backstage/plugin-catalog-backend'));
backend.start();
