/**
 * Parsing of byte sizes given on the command line (`--mem-size 96GiB`).
 *
 * Rules: a plain integer or 0x-hex is bytes; KiB/MiB/GiB/TiB are binary, KB/MB/GB/TB
 * decimal; QEMU's one-letter suffixes (K M G T P, any case, as `-m 96G` takes them:
 * qemu_strtosz()) are binary; a decimal fraction is allowed with a unit as long as the result is a whole
 * number of bytes; anything else is refused with a message that says what is accepted.
 */
import { NvgraceError } from '../errors/index.js';

const UNITS: Record<string, number> = {
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

export class SizeError extends NvgraceError {
  override name = 'SizeError';
  constructor(message: string) {
    super('E_SIZE', message);
  }
}

export function parseSize(text: string): number {
  const s = text.trim();
  const hex = /^0x([0-9a-f]+)$/i.exec(s);
  if (hex) return checked(Number.parseInt(hex[1]!, 16), text);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s);
  if (!m)
    throw new SizeError(
      `bad size "${text}": use bytes (123, 0x7b) or a unit (K M G T as QEMU, KiB MiB GiB TiB, KB MB GB TB)`,
    );
  const unitName = (m[2] ?? '').toLowerCase() || 'b';
  const unit = UNITS[unitName];
  if (unit === undefined) {
    throw new SizeError(
      `bad size unit "${m[2]}" in "${text}": use K M G T or KiB MiB GiB TiB (binary), KB MB GB TB (decimal)`,
    );
  }
  if (unit === 1 && m[1]!.includes('.'))
    throw new SizeError(`bad size "${text}": bytes must be a whole number`);
  // Scale in two steps to stay exact for values like 95.5GiB.
  const [whole, frac = ''] = m[1]!.split('.');
  const bytes = Number(whole) * unit + (frac ? (Number(frac) * unit) / 10 ** frac.length : 0);
  if (!Number.isInteger(bytes))
    throw new SizeError(`size "${text}" is not a whole number of bytes`);
  return checked(bytes, text);
}

function checked(bytes: number, text: string): number {
  if (!Number.isSafeInteger(bytes)) throw new SizeError(`size "${text}" is too large`);
  return bytes;
}

/** 1073741824 → "1 GiB", 0x5A0BC000 → "1.41 GiB": for banners and summaries. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(2);
  return `${text} ${units[i]}`;
}
