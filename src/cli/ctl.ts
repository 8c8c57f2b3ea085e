/**
 * `nvgrace-user ctl SOCKET METHOD [key=value ...]`: one control request, its result as JSON
 * on stdout; `ctl SOCKET events` streams every notification as a JSON line;
 * `--wait-event NAME --timeout MS` waits (after the request, if any) for the first event of
 * that type and prints it — so a script waits on the device instead of sleeping.
 *
 * Rules: values are numbers when they look like one (decimal or 0x-hex), true/false/null,
 * JSON when they start with { [ or ", else strings. Exit codes: 0 done; 1 the server
 * answered an error or the wait timed out; 2 bad usage or no server at SOCKET.
 */
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { ControlClient } from '../control/client.js';
import type { ErrorCode } from '../errors/index.js';
import { CliError } from './errors.js';

export function parseValue(v: string): unknown {
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^0x[0-9a-f]+$/i.test(v)) return Number.parseInt(v.slice(2), 16);
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'null') return null;
  if (/^[[{"]/.test(v)) {
    try {
      return JSON.parse(v);
    } catch {
      throw new CliError('E_USAGE', `value ${v} is not valid JSON`);
    }
  }
  return v;
}

export function parseParams(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new CliError('E_USAGE', `parameter "${a}" is not key=value`);
    out[a.slice(0, eq)] = parseValue(a.slice(eq + 1));
  }
  return out;
}

export interface CtlOptions {
  waitEvent?: string;
  timeoutMs: number;
}

async function open(socket: string): Promise<ControlClient> {
  try {
    return await ControlClient.connect(socket);
  } catch (e) {
    throw new CliError('E_CONNECT', `no control socket at ${socket}: ${(e as Error).message}`);
  }
}

/** Run one ctl invocation; returns the exit code. */
export async function runCtl(
  socket: string,
  method: string,
  args: readonly string[],
  opts: CtlOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const say = (code: ErrorCode, message: string) => err(`nvgrace-user: ${code}: ${message}\n`);
  const streaming = method === 'events';
  const params = streaming ? {} : parseParams(args);
  if (streaming && args.length > 0) throw new CliError('E_USAGE', 'events takes no parameters');
  const client = await open(socket);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    let waited: Promise<unknown> | null = null;
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (opts.waitEvent !== undefined || !streaming) {
        timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
      }
    });
    const closed = new Promise<'closed'>((resolve) => client.onClose(() => resolve('closed')));
    if (opts.waitEvent !== undefined || streaming) {
      waited = new Promise((resolve) => {
        client.onNotification((n) => {
          if (n.method !== 'event') return;
          const e = n.params as { type?: string };
          if (opts.waitEvent === undefined) out(`${JSON.stringify(e)}\n`);
          else if (e.type === opts.waitEvent) resolve(e);
        });
      });
    }
    if (!streaming) {
      try {
        const result = await Promise.race([client.call(method, params, opts.timeoutMs), timedOut]);
        if (result === 'timeout') {
          say('E_TIMEOUT', `no reply to ${method} within ${opts.timeoutMs} ms`);
          return 1;
        }
        out(`${JSON.stringify(result)}\n`);
      } catch (e) {
        if (e instanceof JSONRPCErrorException) {
          out(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
          return 1;
        }
        throw e;
      }
    }
    if (waited === null) return 0;
    const r = await Promise.race([waited, timedOut, closed]);
    if (r === 'timeout') {
      say('E_TIMEOUT', `no ${opts.waitEvent} event within ${opts.timeoutMs} ms`);
      return 1;
    }
    if (r === 'closed') {
      if (streaming && opts.waitEvent === undefined) return 0;
      say('E_PEER', 'the server closed the control connection');
      return 1;
    }
    out(`${JSON.stringify(r)}\n`);
    return 0;
  } finally {
    clearTimeout(timer);
    client.close();
  }
}
