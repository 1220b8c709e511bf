/** One Access emulator for the tests of a describe, put back to answering normally after each test. */
import {
  AccessEmulator,
  AccessEmulatorOptions,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import { EXAMPLE_ORG } from './paths';

/**
 * Starts an emulator (by default for the audience `aud`, knowing the people
 * of the example org) before the tests of the enclosing describe, and closes
 * it after them. The handle is filled in once it has started. After each
 * test its endpoints answer normally again, as themselves, and its request
 * counts start from zero.
 */
export function useAccessEmulator(
  options: AccessEmulatorOptions = { audience: 'aud', catalog: [EXAMPLE_ORG] },
): AccessEmulator {
  const emulator = {} as AccessEmulator;
  beforeAll(async () => {
    Object.assign(emulator, await startAccessEmulator(options));
  });
  afterEach(() => {
    emulator.setEndpointMode('identity', 'ok');
    emulator.setEndpointMode('certs', 'ok');
    emulator.answerIdentityAs(undefined);
    emulator.resetCounts();
  });
  afterAll(() => emulator.close?.());
  return emulator;
}
