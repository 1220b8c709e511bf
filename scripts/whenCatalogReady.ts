// Part of `npm start` (the start:access script): the Access emulator, the
// only way in, opens once the catalog has read the example Users. A person
// who signed in earlier would be provisioned as a stranger for a moment
// (docs/provisioning.md, "People the catalog has not read yet"); production
// closes the same window with a readiness check (docs/production.md).
import {
  EXAMPLE_USERS,
  localUrls,
  NPM_START_PORTS,
  waitForExampleUsers,
} from './localStack';

const TIMEOUT_MS = 180_000;

// The backend's port as the backend reads it: app-config.yaml's, unless the
// Backstage config variable moves it (the e2e suites do, e2e/support/stack.ts).
const BACKEND_URL = localUrls({
  ...NPM_START_PORTS,
  backend:
    Number(process.env.APP_CONFIG_backend_listen_port) ||
    NPM_START_PORTS.backend,
}).backend;

waitForExampleUsers(BACKEND_URL, TIMEOUT_MS).then(ready => {
  if (!ready) {
    console.error(
      `The catalog did not have ${EXAMPLE_USERS.join(', ')} after ${
        TIMEOUT_MS / 1000
      } s; see the backend's log. The Access emulator does not start.`,
    );
    process.exit(1);
  }
});
