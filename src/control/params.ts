/**
 * Strict readers for JSON-RPC params: each bad or missing field is a -32602 (invalid params)
 * error naming the field, never a crash or a silent default.
 */
import { JSONRPCErrorCode, JSONRPCErrorException } from 'json-rpc-2.0';

export type Params = Record<string, unknown>;

export function invalid(message: string): never {
  throw new JSONRPCErrorException(message, JSONRPCErrorCode.InvalidParams);
}

/** params must be absent or an object (by-name); positional arrays are refused. */
export function asObject(params: unknown): Params {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    invalid('params must be an object (by-name parameters)');
  }
  return params as Params;
}

/** Refuse fields the method does not know (a typo must not pass as a default). */
export function onlyKeys(p: Params, allowed: readonly string[]): void {
  for (const k of Object.keys(p)) {
    if (!allowed.includes(k))
      invalid(`unknown parameter "${k}" (allowed: ${allowed.join(', ') || 'none'})`);
  }
}

export function optInt(p: Params, name: string, min: number, max: number): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    invalid(`${name} must be an integer ${min}..${max}`);
  }
  return v;
}

export function reqInt(p: Params, name: string, min: number, max: number): number {
  const v = optInt(p, name, min, max);
  if (v === undefined) invalid(`${name} is required`);
  return v;
}

export function optString(p: Params, name: string, maxLen = 4096): string | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLen) {
    invalid(`${name} must be a non-empty string`);
  }
  return v;
}

export function reqChoice<T extends string>(p: Params, name: string, choices: readonly T[]): T {
  const v = p[name];
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    invalid(`${name} must be one of ${choices.join(', ')}`);
  }
  return v as T;
}
