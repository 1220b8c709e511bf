/** Reading `catalog.providers.cloudflareAccess`, and counting removeAfter back from now. */
import { ConfigReader } from '@backstage/config';
import { durationBefore, readProvisioningConfig } from './config';

describe('readProvisioningConfig', () => {
  it('works with no config at all', () => {
    expect(readProvisioningConfig(new ConfigReader({}))).toEqual({
      removeAfter: { days: 90 },
      schedule: {
        frequency: { minutes: 30 },
        timeout: { minutes: 10 },
        initialDelay: { minutes: 30 },
      },
    });
  });

  it('reads removeAfter and schedule', () => {
    const config = new ConfigReader({
      catalog: {
        providers: {
          cloudflareAccess: {
            removeAfter: { days: 30 },
            schedule: { frequency: 'PT1H', timeout: { minutes: 3 } },
          },
        },
      },
    });
    expect(readProvisioningConfig(config)).toEqual({
      removeAfter: { days: 30 },
      schedule: { frequency: { hours: 1 }, timeout: { minutes: 3 } },
    });
  });

  it('refuses a removeAfter that is not a duration', () => {
    const config = new ConfigReader({
      catalog: { providers: { cloudflareAccess: { removeAfter: 'soon' } } },
    });
    expect(() => readProvisioningConfig(config)).toThrow(/removeAfter/);
  });
});

describe('durationBefore', () => {
  it('counts back the duration as Backstage counts it', () => {
    const now = new Date('2025-03-31T12:00:00.000Z');
    expect(
      durationBefore(now, { weeks: 1, days: 2, hours: 3, seconds: 4 }),
    ).toEqual(new Date('2025-03-22T08:59:56.000Z'));
    expect(durationBefore(now, { days: 90 })).toEqual(
      new Date('2024-12-31T12:00:00.000Z'),
    );
  });
});
