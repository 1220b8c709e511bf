export { startAccessEmulator } from './emulator';
export type {
  AccessEmulator,
  AccessEmulatorGroup,
  AccessEmulatorIdentity,
  AccessEmulatorIdentityGroup,
  AccessEmulatorJwk,
  AccessEmulatorOptions,
  AccessEmulatorPublicKey,
  AccessEmulatorServiceToken,
  AccessEmulatorSignIn,
  AccessEmulatorUser,
  CertsMode,
  CountedEndpoint,
  EndpointMode,
  EndpointModes,
  IdentityMode,
  MintOptions,
} from './types';
