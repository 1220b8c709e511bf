import type { CountedEndpoint, EndpointMode } from './types';

/** Test controls: request counts per endpoint and forced failures of certs and get-identity. */
export class EndpointControls {
  private readonly modes: Record<'certs' | 'identity', EndpointMode> = { certs: 'ok', identity: 'ok' };
  private readonly counts = new Map<CountedEndpoint, number>();

  setMode(endpoint: 'certs' | 'identity', mode: EndpointMode): void {
    this.modes[endpoint] = mode;
  }

  mode(endpoint: 'certs' | 'identity'): EndpointMode {
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
