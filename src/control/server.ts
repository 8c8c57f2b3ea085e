/**
 * ControlServer: the control socket (`serve --control-socket PATH`) — JSON-RPC 2.0, one
 * message per line, over a UNIX stream socket; many clients at once; events broadcast as
 * notifications (method "event") to every connection.
 *
 * Rules:
 * - The socket is created with mode 0600 (umask set around bind, then chmod) and removed on
 *   close. A stale socket file (nobody listening) is replaced; a live one is refused.
 * - Every request gets a reply: -32700 for bad JSON (and for a line longer than MAX_LINE,
 *   whose bytes are discarded up to the next newline), -32600 for a non-request, -32601 for
 *   an unknown method, -32602 for bad params. The connection stays usable after any error.
 *   Notifications (no id) get no reply, as JSON-RPC says.
 * - Each connection's requests run one at a time, in order; at most MAX_QUEUED lines wait
 *   (past that the socket is paused until the queue drains).
 * - Output is bounded: a connection with more than MAX_OUTPUT bytes unsent (a client that
 *   never reads) is dropped. Nothing a control client sends can crash or stall the server
 *   or the VMM sessions.
 * - Multi-GPU: `units[i]` is GPU i; methods pick one with `gpu`.
 * - The JSON-RPC codec is the json-rpc-2.0 package (transport-agnostic, no dependencies):
 *   this file owns only the line transport and the bounds.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  createJSONRPCErrorResponse,
  JSONRPCErrorCode,
  JSONRPCErrorException,
  type JSONRPCRequest,
  JSONRPCServer,
} from 'json-rpc-2.0';
import { NvgraceError } from '../errors/index.js';
import { MAX_DEPTH, MAX_LINE, MAX_OUTPUT, MAX_QUEUED } from './bounds.js';
import type { ControlEvent, GpuUnit } from './gpu-unit.js';
import { LineSplitter } from './lines.js';
import { type CallerConnection, METHODS, type MethodContext } from './methods.js';

export { MAX_DEPTH, MAX_LINE, MAX_OUTPUT, MAX_QUEUED };

/** Iterative depth check (no recursion: the input is hostile). */
function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) return true;
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
  return false;
}

export class ControlSocketError extends NvgraceError {
  override name = 'ControlSocketError';
}

export interface ControlServerOptions {
  path: string;
  units: readonly GpuUnit[];
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  maxLine?: number;
  maxOutput?: number;
}

class ControlConnection implements CallerConnection {
  readonly lines: LineSplitter;
  private queue: string[] = [];
  private running = false;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly server: ControlServer,
    maxLine: number,
  ) {
    this.lines = new LineSplitter(maxLine);
  }

  /** Write one JSON value as a line; drops the connection past the output bound. */
  send(value: unknown): boolean {
    if (this.closed) return false;
    if (this.socket.writableLength > this.server.maxOutput) {
      this.server.drop(this, `more than ${this.server.maxOutput} bytes unread`);
      return false;
    }
    this.socket.write(`${JSON.stringify(value)}\n`);
    return true;
  }

  notify(method: string, params: unknown): boolean {
    return this.send({ jsonrpc: '2.0', method, params });
  }

  feed(chunk: Buffer): void {
    for (const ev of this.lines.push(chunk)) {
      if (ev.kind === 'overflow') {
        this.send(
          createJSONRPCErrorResponse(
            null,
            JSONRPCErrorCode.ParseError,
            `line of ${ev.bytes} bytes exceeds ${this.lines.maxLine}: discarded up to its newline`,
          ),
        );
      } else if (ev.text.trim() !== '') {
        this.queue.push(ev.text);
      }
    }
    if (this.queue.length > MAX_QUEUED) this.socket.pause();
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const line = this.queue.shift()!;
        const reply = await this.server.answer(line, this);
        if (reply !== null && !(Array.isArray(reply) && reply.length === 0)) this.send(reply);
        if (this.queue.length <= MAX_QUEUED / 2 && this.socket.isPaused()) this.socket.resume();
      }
    } finally {
      this.running = false;
    }
  }
}

export class ControlServer {
  readonly rpc: JSONRPCServer<ControlConnection>;
  readonly maxOutput: number;
  private readonly server: Server;
  private readonly conns = new Set<ControlConnection>();
  private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  private readonly ctx: MethodContext;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly path: string,
    private readonly units: readonly GpuUnit[],
    opts: ControlServerOptions,
  ) {
    this.log = opts.log ?? (() => {});
    this.maxOutput = opts.maxOutput ?? MAX_OUTPUT;
    const maxLine = opts.maxLine ?? MAX_LINE;
    this.ctx = { units, log: this.log };
    this.rpc = new JSONRPCServer<ControlConnection>({
      // Bad requests are answered, not logged; only a method's own failure is worth a line.
      errorListener: (message, data) => {
        if (!(data instanceof JSONRPCErrorException)) this.log('warn', `control: ${message}`);
      },
    });
    // A failure that is not a JSON-RPC error is a server bug: -32603, not the package's code 0.
    this.rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) =>
      error instanceof JSONRPCErrorException
        ? createJSONRPCErrorResponse(id, error.code, error.message, error.data)
        : createJSONRPCErrorResponse(
            id,
            JSONRPCErrorCode.InternalError,
            `internal error: ${(error as Error)?.message ?? String(error)}`,
          );
    for (const [name, method] of METHODS) {
      this.rpc.addMethod(name, (params, conn) => method(this.ctx, params, conn));
    }
    for (const u of units) u.onEvent((e) => this.broadcast(e));
    this.server = createServer((socket) => this.accept(socket, maxLine));
    this.server.on('error', (e) => this.log('error', `control socket: ${e.message}`));
  }

  /**
   * One line in, its reply out (null: a notification). Parsing and the depth check are ours:
   * the codec recurses into what it is given, and a deeply nested value would overflow its
   * stack outside any handler (an unhandled rejection).
   */
  answer(line: string, conn: ControlConnection): PromiseLike<unknown> {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return Promise.resolve(
        createJSONRPCErrorResponse(null, JSONRPCErrorCode.ParseError, 'Parse error'),
      );
    }
    if (tooDeep(msg, MAX_DEPTH)) {
      return Promise.resolve(
        createJSONRPCErrorResponse(
          null,
          JSONRPCErrorCode.InvalidRequest,
          `JSON nested deeper than ${MAX_DEPTH} levels`,
        ),
      );
    }
    return this.rpc.receive(msg as JSONRPCRequest, conn);
  }

  /** Listen on `opts.path` (mode 0600). */
  static async listen(opts: ControlServerOptions): Promise<ControlServer> {
    await clearStale(opts.path);
    const s = new ControlServer(opts.path, opts.units, opts);
    await new Promise<void>((resolve, reject) => {
      const old = process.umask(0o177);
      const onError = (e: NodeJS.ErrnoException) => {
        process.umask(old);
        reject(
          new ControlSocketError('E_CONTROL_SOCKET', `cannot listen on ${opts.path}: ${e.message}`),
        );
      };
      s.server.once('error', onError);
      s.server.listen(opts.path, () => {
        s.server.off('error', onError);
        resolve();
      });
      // bind() happens inside listen(); the umask only needs to cover it.
      process.umask(old);
    });
    chmodSync(opts.path, 0o600);
    return s;
  }

  /** Control connections open now. */
  get connections(): number {
    return this.conns.size;
  }

  private accept(socket: Socket, maxLine: number): void {
    const c = new ControlConnection(socket, this, maxLine);
    this.conns.add(c);
    socket.on('data', (chunk: Buffer) => c.feed(chunk));
    socket.on('error', () => {}); // a peer's reset: the close handler cleans up
    socket.on('close', () => this.forget(c));
  }

  private forget(c: ControlConnection): void {
    if (!this.conns.delete(c)) return;
    c.closed = true;
    for (const u of this.units) void u.traceStopIfOwner(c);
  }

  /** Drop a connection (output bound exceeded). */
  drop(c: ControlConnection, why: string): void {
    if (c.closed) return;
    this.log('warn', `dropping a control client: ${why}`);
    c.closed = true;
    c.socket.destroy();
    this.forget(c);
  }

  private broadcast(e: ControlEvent): void {
    for (const c of this.conns) c.notify('event', e);
  }

  /** Stop listening, close every connection, remove the socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of [...this.conns]) {
        c.socket.destroy();
        this.forget(c);
      }
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const u of this.units) await u.close();
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    })();
    return this.closing;
  }
}

/** Remove a socket file nobody listens on; refuse a live one or a non-socket. */
async function clearStale(path: string): Promise<void> {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new ControlSocketError('E_CONTROL_SOCKET', `${path} exists and is not a socket`);
  }
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) {
    throw new ControlSocketError('E_CONTROL_SOCKET_BUSY', `${path} is in use by a running server`);
  }
  unlinkSync(path);
}
