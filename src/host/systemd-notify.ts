/**
 * systemd's readiness protocol (sd_notify(3)): when $NOTIFY_SOCKET is set, one datagram
 * "READY=1" (and later "STOPPING=1") to that AF_UNIX socket; '@' starts an abstract name.
 *
 * Rules: without NOTIFY_SOCKET nothing is sent and nothing fails; a failed send is reported
 * to the caller (to log), never thrown: readiness is a courtesy, not a reason to stop serving.
 */
import { native } from '../native/addon.js';

/** Send `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET; returns an error text or null. */
export function notifySystemd(state: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const address = env.NOTIFY_SOCKET;
  if (!address) return null;
  try {
    native().notifySocket(address, state);
    return null;
  } catch (e) {
    return `NOTIFY_SOCKET ${address}: ${(e as Error).message}`;
  }
}
