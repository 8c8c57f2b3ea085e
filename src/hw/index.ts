/**
 * src/hw: the physical card. Re-exports the Card contract, the profiles, the factory and the
 * register offsets other layers (and tests) name.
 */
export * from './bar0.js';
export type * from './card.js';
export * from './clock.js';
export * from './config-image.js';
export * from './create-card.js';
export * from './emu-identity.js';
export * from './faults.js';
export * from './grace-card.js';
export * from './memory.js';
export * from './profiles.js';
