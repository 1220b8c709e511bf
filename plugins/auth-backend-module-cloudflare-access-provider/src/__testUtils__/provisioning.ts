/** A backend whose one resolver provisions people, with what it announces on the person-seen topic, for the provisioning tests. */
import {
  BackendFeature,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';
import {
  EventParams,
  eventsServiceFactory,
  eventsServiceRef,
} from '@backstage/plugin-events-node';
import { AccessEmulatorUser } from '@cfaccess/access-emulator';
import { CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC } from '@cfaccess/plugin-cloudflare-access-node';
import { ON_FIXTURE_CATALOG, useCfaccess } from './testBackend';

/** A plugin that records what is published on the person-seen topic, through the real events service. */
function personSeenRecorder(seen: EventParams[]) {
  return createBackendPlugin({
    pluginId: 'person-seen-recorder',
    register(reg) {
      reg.registerInit({
        deps: { events: eventsServiceRef },
        async init({ events }) {
          await events.subscribe({
            id: 'recorder',
            topics: [CLOUDFLARE_ACCESS_PERSON_SEEN_TOPIC],
            async onEvent(event) {
              seen.push(event);
            },
          });
        },
      });
    },
  });
}

/** The Access groups the provisioning backend maps: one to the catalog's security Group, one to a Group the catalog lacks. */
export const MAPPED_GROUPS = {
  security: { id: 'g-security', name: 'Security' },
  gone: { id: 'g-gone', name: 'Gone' },
};

export type ProvisioningOptions = {
  provisionGroups?: boolean;
  serviceTokens?: JsonObject[];
  allowedDomains?: string[];
  readyUser?: string;
  /** More options of the provisioning resolver (bounds). */
  resolver?: JsonObject;
  /** More provider config. */
  provider?: JsonObject;
  features?: BackendFeature[];
};

/**
 * An emulator with these people, and a backend whose one resolver provisions
 * people of example.com, recording what it announces in `seen`, for the
 * tests of the enclosing describe.
 */
export function useProvisioning(
  users: AccessEmulatorUser[],
  options: ProvisioningOptions = {},
) {
  const seen: EventParams[] = [];
  const { emulator, useBackend } = useCfaccess(
    {
      ...options.provider,
      accessGroups: [
        { id: MAPPED_GROUPS.security.id, entityRef: 'group:default/security' },
        {
          id: MAPPED_GROUPS.gone.id,
          entityRef: 'group:default/not-in-catalog',
        },
      ],
      serviceTokens: options.serviceTokens ?? [],
      resolver: {
        allowedDomains: options.allowedDomains ?? ['example.com'],
        provisionUsers: true,
        ...(options.provisionGroups && { provisionGroups: true }),
        ...options.resolver,
      },
    },
    {
      emulator: { audience: 'aud', users },
      ...ON_FIXTURE_CATALOG,
      readyUser: options.readyUser ?? ON_FIXTURE_CATALOG.readyUser,
      config: { events: { useEventBus: 'never' } },
      features: [
        eventsServiceFactory,
        personSeenRecorder(seen),
        ...(options.features ?? []),
      ],
    },
  );
  const backend = useBackend();
  return { emulator, backend, seen };
}
