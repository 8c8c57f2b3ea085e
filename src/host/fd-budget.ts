/**
 * The process's file-descriptor budget: RLIMIT_NOFILE raised to its hard limit at start,
 * and the number of DMA windows (each holds its client's fd) the server can really honour.
 *
 * Rules: raise once per process (not per endpoint); what the server advertises as
 * max_dma_maps never exceeds what is left after FD_RESERVE, shared among the endpoints, and
 * never exceeds the protocol maximum (QEMU rejects more than 65535).
 */
import { native } from '../native/addon.js';

/**
 * Fds kept for everything but DMA windows, per process: listener, memory backing, stdio and
 * libuv, per endpoint IRQ eventfds (≤ 13), queued-reply dups (≤ 64 + one message's 16),
 * waiting and refused newcomers (≤ 24), with slack for the next accept and a message's fds.
 */
export const FD_RESERVE = 256;

export interface FdLimit {
  /** The soft limit after raising (-1 = unlimited). */
  soft: number;
  hard: number;
}

let raised: FdLimit | undefined;

/** Raise the soft RLIMIT_NOFILE to the hard limit (once per process) and report it. */
export function raiseFdLimit(): FdLimit {
  raised ??= native().raiseNofile();
  return raised;
}

/**
 * DMA windows each of `endpoints` endpoints can advertise under the soft limit `soft`, at
 * most `max` (the protocol's MAX_DMA_MAPS).
 */
export function dmaMapBudget(soft: number, max: number, endpoints = 1): number {
  if (soft < 0) return max;
  const share = Math.floor((soft - FD_RESERVE) / Math.max(1, endpoints));
  return Math.max(0, Math.min(max, share));
}
