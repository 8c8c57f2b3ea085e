/**
 * src/pci: PCI config-space building blocks (constants, the byte image with write masks,
 * capability builders, the chain walker). Pure; used by src/hw and src/vfio.
 */
export * from './capabilities.js';
export * from './config-space.js';
export * from './constants.js';
export * from './walk.js';
