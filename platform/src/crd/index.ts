/** Group, version and names of switchforge's custom resources, and their types. */
export const GROUP = 'switchforge.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const DEVICE = {
  kind: 'Device',
  plural: 'devices',
  singular: 'device',
  crdName: `devices.${GROUP}`,
} as const;
export const DEVICE_DISCOVERY = {
  kind: 'DeviceDiscovery',
  plural: 'devicediscoveries',
  singular: 'devicediscovery',
  crdName: `devicediscoveries.${GROUP}`,
} as const;
export const DEVICE_PROFILE = {
  kind: 'DeviceProfile',
  plural: 'deviceprofiles',
  singular: 'deviceprofile',
  crdName: `deviceprofiles.${GROUP}`,
} as const;
export const DEVICE_INVENTORY = {
  kind: 'DeviceInventory',
  plural: 'deviceinventories',
  singular: 'deviceinventory',
  crdName: `deviceinventories.${GROUP}`,
} as const;
export const AUDIO_JOB = {
  kind: 'AudioJob',
  plural: 'audiojobs',
  singular: 'audiojob',
  crdName: `audiojobs.${GROUP}`,
} as const;

export * from './conditions.js';
export * from './device.js';
export * from './audiojob.js';
export * from './duration.js';
export * from './devicediscovery.js';
export * from './deviceprofile.js';
export * from './deviceinventory.js';
