/**
 * Control-plane test helpers: a served GPU with a control socket, control clients that
 * collect the events they receive, and an eventfd that counts its signals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServeOptions } from '../../src/cli/serve.js';
import { ControlClient } from '../../src/control/client.js';
import type { ControlEvent } from '../../src/control/gpu-unit.js';
import { EventFd } from '../../src/host/index.js';
import { type Served, serve, until } from '../e2e/helpers.js';

export interface ControlServed extends Served {
  controlPath: string;
  /** A control client whose "event" notifications are collected in `events`. */
  control(): Promise<Watched>;
}

export interface Watched {
  client: ControlClient;
  events: ControlEvent[];
  /** Resolve with the first event of `type` after index `from` (bounded wait). */
  next(type: string, from?: number, ms?: number): Promise<ControlEvent>;
}

export async function serveWithControl(opts: Partial<ServeOptions> = {}): Promise<ControlServed> {
  const cdir = mkdtempSync(join(tmpdir(), 'nvgrace-ctl-'));
  const controlPath = join(cdir, 'control.sock');
  const s = await serve({ ...opts, controlSocket: controlPath });
  const clients: ControlClient[] = [];
  const stop = s.stop;
  return {
    ...s,
    controlPath,
    async control() {
      const client = await ControlClient.connect(controlPath);
      clients.push(client);
      const events: ControlEvent[] = [];
      client.onNotification((n) => {
        if (n.method === 'event') events.push(n.params as ControlEvent);
      });
      return {
        client,
        events,
        async next(type, from = 0, ms = 5000) {
          let found: ControlEvent | undefined;
          await until(
            () => {
              found = events.slice(from).find((e) => e.type === type);
              return found !== undefined;
            },
            `event ${type}`,
            ms,
          );
          return found!;
        },
      };
    },
    async stop() {
      for (const c of clients) c.close();
      await stop();
      rmSync(cdir, { recursive: true, force: true });
    },
  };
}

/** An eventfd with a running count of the signals it received. */
export function countingEventFd(): { fd: number; count: () => bigint; close: () => void } {
  const ev = EventFd.create();
  let seen = 0n;
  const w = ev.watch((n) => {
    seen += n;
  });
  return {
    fd: ev.fd,
    count: () => seen,
    close: () => {
      w.close();
      ev.close();
    },
  };
}
