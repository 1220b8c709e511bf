import { LOCAL_STACK, LOCAL_URL, waitUntilUp } from './localStack';

// Part of `npm start`: says which URL to open, once every server answers.
Promise.all(
  Object.values(LOCAL_STACK).map(server => waitUntilUp(server.readyUrl)),
).then(() => {
  console.log(
    `Ready: open ${LOCAL_URL} and pick a person on the Access login page (Ctrl-C stops everything)`,
  );
});
