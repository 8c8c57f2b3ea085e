/**
 * The control methods: name → params validation → the GpuUnit call. Every method takes an
 * optional `gpu` index (default 0); an index with no GPU is -32602.
 *
 * Rules: params are by-name objects, checked strictly (unknown keys refused); a RangeError
 * from the model (a poison range outside device memory, say) becomes -32602 with its
 * message. Methods return plain JSON values.
 */
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { FAULT_KINDS, MAX_RESET_STALL_MS } from '../hw/faults.js';
import type { FaultRequest, GpuUnit } from './gpu-unit.js';
import {
  asObject,
  invalid,
  onlyKeys,
  optInt,
  optString,
  type Params,
  reqChoice,
  reqInt,
} from './params.js';
import type { TraceFilter } from './trace-record.js';
import { CallbackTraceSink, FileTraceSink, type TraceSink } from './trace-sink.js';

/** What a method sees of the connection that called it. */
export interface CallerConnection {
  /** Send a notification to this connection only; false when it was dropped instead. */
  notify(method: string, params: unknown): boolean;
}

export interface MethodContext {
  units: readonly GpuUnit[];
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export type Method = (ctx: MethodContext, params: unknown, caller: CallerConnection) => unknown;

/** JSON-RPC's implementation-defined server-error range: a local failure (a file). */
export const SERVER_ERROR = -32000;

function unitOf(ctx: MethodContext, p: Params): GpuUnit {
  const gpu = optInt(p, 'gpu', 0, 1023) ?? 0;
  const u = ctx.units[gpu];
  if (!u) invalid(`gpu ${gpu} does not exist (this server has ${ctx.units.length})`);
  return u;
}

/** Run a model call, turning its RangeError into invalid params. */
function model<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError) invalid(e.message);
    throw e;
  }
}

function faultRequest(p: Params): FaultRequest {
  const kind = reqChoice(p, 'kind', FAULT_KINDS);
  const base = ['gpu', 'kind'];
  switch (kind) {
    case 'reset-stall':
      onlyKeys(p, [...base, 'ms']);
      return { kind, ms: reqInt(p, 'ms', 0, MAX_RESET_STALL_MS) };
    case 'poison':
      onlyKeys(p, [...base, 'offset', 'length']);
      return {
        kind,
        offset: reqInt(p, 'offset', 0, Number.MAX_SAFE_INTEGER),
        length: reqInt(p, 'length', 1, Number.MAX_SAFE_INTEGER),
      };
    case 'aer':
      onlyKeys(p, [...base, 'severity']);
      return {
        kind,
        severity: reqChoice(p, 'severity', ['correctable', 'uncorrectable'] as const),
      };
    default:
      onlyKeys(p, base);
      return { kind };
  }
}

function traceFilter(v: unknown): TraceFilter | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v))
    invalid('filter must be an object {commands?, regions?}');
  const f = v as Record<string, unknown>;
  onlyKeys(f, ['commands', 'regions']);
  const out: TraceFilter = {};
  if (f.commands !== undefined) {
    if (!Array.isArray(f.commands) || !f.commands.every((c) => typeof c === 'string')) {
      invalid('filter.commands must be an array of command names (e.g. "REGION_READ")');
    }
    out.commands = f.commands as string[];
  }
  if (f.regions !== undefined) {
    if (!Array.isArray(f.regions) || !f.regions.every((r) => Number.isInteger(r) && r >= 0)) {
      invalid('filter.regions must be an array of region indices');
    }
    out.regions = f.regions as number[];
  }
  return out;
}

/** A method whose only param is `gpu`: checks it, then asks that unit. */
function gpuOnly(op: (u: GpuUnit, ctx: MethodContext) => unknown): Method {
  return (ctx, params) => {
    const p = asObject(params);
    onlyKeys(p, ['gpu']);
    return op(unitOf(ctx, p), ctx);
  };
}

export const METHODS: ReadonlyMap<string, Method> = new Map<string, Method>([
  ['get_status', gpuOnly((u, ctx) => ({ gpus: ctx.units.length, ...u.status() }))],
  [
    'inject_fault',
    (ctx, params) => {
      const p = asObject(params);
      const u = unitOf(ctx, p);
      const f = faultRequest(p);
      return model(() => u.injectFault(f));
    },
  ],
  ['clear_faults', gpuOnly((u) => u.clearFaults())],
  ['reset_device', gpuOnly((u) => u.hostReset())],
  [
    'raise_irq',
    (ctx, params) => {
      const p = asObject(params);
      onlyKeys(p, ['gpu', 'index', 'vector']);
      const u = unitOf(ctx, p);
      const index = reqInt(p, 'index', 0, 4);
      const vector = optInt(p, 'vector', 0, 2047) ?? 0;
      return model(() => u.raiseIrq(index, vector));
    },
  ],
  ['request_release', gpuOnly((u) => u.requestRelease())],
  ['disconnect_client', gpuOnly((u) => u.disconnectClient())],
  [
    'trace_start',
    async (ctx, params, caller) => {
      const p = asObject(params);
      onlyKeys(p, ['gpu', 'file', 'filter']);
      const u = unitOf(ctx, p);
      const file = optString(p, 'file');
      const filter = traceFilter(p.filter);
      let sink: TraceSink;
      if (file !== undefined) {
        try {
          sink = new FileTraceSink(file, (e) =>
            ctx.log('error', `trace file ${file}: ${e.message} (tracing to it stopped)`),
          );
        } catch (e) {
          throw new JSONRPCErrorException(
            `cannot open trace file ${file}: ${(e as Error).message}`,
            SERVER_ERROR,
          );
        }
      } else {
        sink = new CallbackTraceSink((r) => caller.notify('trace', r), caller);
      }
      await u.traceStart(sink, filter);
      return { tracing: true, target: sink.target };
    },
  ],
  [
    'trace_stop',
    async (ctx, params) => {
      const p = asObject(params);
      onlyKeys(p, ['gpu']);
      const r = await unitOf(ctx, p).traceStop();
      return r ? { stopped: true, ...r } : { stopped: false };
    },
  ],
]);
