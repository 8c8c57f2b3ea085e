/**
 * ControlClient: a connection to a control socket — requests with their replies, and the
 * notifications ("event", "trace") the server pushes. Used by `nvgrace-user ctl` and tests.
 *
 * Rules: replies are matched by id (json-rpc-2.0's client); lines from the server are split
 * with the same bounded splitter the server uses; an error reply rejects with
 * JSONRPCErrorException (code, message); a closed connection rejects what is pending.
 */
import { connect, type Socket } from 'node:net';
import { JSONRPCClient, type JSONRPCResponse } from 'json-rpc-2.0';
import { LineSplitter } from './lines.js';

export interface Notification {
  method: string;
  params: unknown;
}

export class ControlClient {
  private readonly rpc: JSONRPCClient;
  private readonly lines = new LineSplitter(16 * 2 ** 20);
  private listeners: ((n: Notification) => void)[] = [];
  private closeListeners: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    this.rpc = new JSONRPCClient((req) => {
      socket.write(`${JSON.stringify(req)}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.lines.push(chunk)) {
        if (ev.kind === 'line' && ev.text !== '') this.onLine(ev.text);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.rpc.rejectAllPendingRequests('control connection closed');
      for (const l of this.closeListeners) l();
    });
  }

  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new ControlClient(s));
      });
      s.once('error', reject);
    });
  }

  private onLine(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const m = msg as { method?: unknown; params?: unknown };
    if (typeof m.method === 'string') {
      for (const l of this.listeners) l({ method: m.method, params: m.params });
      return;
    }
    this.rpc.receive(msg as JSONRPCResponse);
  }

  /** Call a method; resolves with its result, rejects with JSONRPCErrorException. */
  call(method: string, params?: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    return Promise.resolve(this.rpc.timeout(timeoutMs).request(method, params));
  }

  /** Send raw bytes (tests of malformed input). */
  sendRaw(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  onNotification(listener: (n: Notification) => void): void {
    this.listeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.socket.destroy();
  }
}
