/**
 * The vfio-user protocol layer, sans-IO: header codec, FrameReader, typed encoders/decoders
 * for every message in both directions, capability parsing, per-command validation.
 * No Node APIs: Uint8Array and DataView only.
 */
// The uAPI numbers and errnos that messages carry, for users of the codec (defined in src/uapi).
export * from '../../uapi/errno.js';
export * from '../../uapi/vfio.js';
export * from './constants.js';
export * from './control.js';
export * from './dma.js';
export * from './errors.js';
export * from './frame-reader.js';
export * from './header.js';
export * from './info.js';
export * from './irqs.js';
export * from './le.js';
export * from './limits.js';
export * from './region-io.js';
export * from './reply.js';
export * from './validate.js';
export * from './version.js';
