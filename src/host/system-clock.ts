/**
 * The real clock for the model's Clock interface: monotonic milliseconds and timers.
 * Lives at the I/O edge so the pure layers never create timers themselves.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../hw/clock.js';

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
};
