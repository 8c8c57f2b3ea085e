/**
 * src/vfio: the vfio-pci core. The VfioDevice contract, errors, uAPI values, info encoders,
 * and VfioPciDevice (the core over a Card).
 */
export * from './device.js';
export * from './errors.js';
export * from './pci-device.js';
export * from './region-info.js';
export * from './uapi.js';
