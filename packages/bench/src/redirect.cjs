// Preloaded (node -r) into the upstream backend only: the upstream module
// calls https://<teamName>.cloudflareaccess.com, and this sends that one
// name to the bench's local HTTPS proxy instead of Cloudflare.
const dns = require('node:dns');

const TEAM_HOST = 'bench.cloudflareaccess.com';
const LOOPBACK = { address: '127.0.0.1', family: 4 };

function wantsAll(options) {
  return (
    typeof options === 'object' && options !== null && options.all === true
  );
}

const lookup = dns.lookup;
dns.lookup = function lookupTeamHost(hostname, options, callback) {
  if (hostname !== TEAM_HOST) {
    return lookup.apply(this, arguments);
  }
  const done = typeof options === 'function' ? options : callback;
  if (wantsAll(options)) {
    process.nextTick(done, null, [LOOPBACK]);
  } else {
    process.nextTick(done, null, LOOPBACK.address, LOOPBACK.family);
  }
  return undefined;
};

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = async function lookupTeamHost(hostname, options) {
  if (hostname !== TEAM_HOST) {
    return promisesLookup.call(this, hostname, options);
  }
  return wantsAll(options) ? [LOOPBACK] : LOOPBACK;
};
