import type { CountedEndpoint, EndpointModes } from './types';

/** Test controls: request counts per endpoint, forced failures of certs and get-identity, swapped identities. */
export class EndpointControls {
  private readonly modes: EndpointModes = { certs: 'ok', identity: 'ok' };
  private readonly counts = new Map<CountedEndpoint, number>();
  /** The email whose identity get-identity answers with instead of the session's own, if set. */
  identityAs: string | undefined;

  setMode<E extends keyof EndpointModes>(
    endpoint: E,
    mode: EndpointModes[E],
  ): void {
    this.modes[endpoint] = mode;
  }

  mode<E extends keyof EndpointModes>(endpoint: E): EndpointModes[E] {
    return this.modes[endpoint];
  }

  record(endpoint: CountedEndpoint): void {
    this.counts.set(endpoint, this.count(endpoint) + 1);
  }

  count(endpoint: CountedEndpoint): number {
    return this.counts.get(endpoint) ?? 0;
  }

  resetCounts(): void {
    this.counts.clear();
  }
}
