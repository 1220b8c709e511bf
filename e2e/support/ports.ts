import { type AddressInfo, createServer, type Server } from 'node:net';

/** Listens on a port the OS picks (port 0), on every address, as `localhost` may be IPv4 or IPv6. */
function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => resolve(server));
  });
}

/**
 * As many ports as asked, all different, that nothing listened on a moment
 * ago: the OS picks each, and they are held until all are picked, then let go
 * for the test's servers to take. Two e2e runs on one machine thus get ports
 * of their own (unless another program takes one in between: rare).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, listenOnAnyPort),
  );
  const ports = servers.map(server => (server.address() as AddressInfo).port);
  await Promise.all(
    servers.map(server => new Promise(closed => server.close(closed))),
  );
  return ports;
}
