export { startAccessEmulator } from './emulator';
export type {
  AccessEmulator,
  AccessEmulatorJwk,
  AccessEmulatorOptions,
  AccessEmulatorPublicKey,
  AccessEmulatorServiceToken,
  AccessEmulatorSignIn,
  AccessEmulatorUser,
  CountedEndpoint,
  EndpointMode,
  MintOptions,
} from './types';
