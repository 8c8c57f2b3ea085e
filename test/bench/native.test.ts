/**
 * The native benchmark programs (bench/native/, built by binding.gyp at npm ci) and the bench
 * CLI: the C wire facts match the TypeScript ones, the client validates what it is sent and
 * names the target that failed, and both CLIs refuse bad usage with exit 2.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RegionInfoFlags } from '../../src/uapi/vfio.js';
import {
  Command,
  HEADER_SIZE,
  HeaderFlags,
  Sizes,
} from '../../src/vfio-user/protocol/constants.js';
import { MAX_DATA_XFER } from '../../src/vfio-user/protocol/limits.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = join(root, 'build', 'Release', 'nvgrace-bench-client');
const cfloor = join(root, 'build', 'Release', 'nvgrace-bench-floor');

function defines(): Map<string, number> {
  const text = readFileSync(join(root, 'bench', 'native', 'wire.h'), 'utf8');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#define (VFU_\w+) \(?([0-9a-fx]+)(?:u << (\d+)\))?/gm)) {
    out.set(m[1]!, Number(m[2]) * 2 ** Number(m[3] ?? 0));
  }
  return out;
}

describe('bench/native/wire.h', () => {
  it('defines every wire fact as src/vfio-user/protocol does', () => {
    const d = defines();
    const expected: Record<string, number> = {
      VFU_HEADER: HEADER_SIZE,
      VFU_CMD_VERSION: Command.VERSION,
      VFU_CMD_DEVICE_GET_INFO: Command.DEVICE_GET_INFO,
      VFU_CMD_DEVICE_GET_REGION_INFO: Command.DEVICE_GET_REGION_INFO,
      VFU_CMD_REGION_READ: Command.REGION_READ,
      VFU_CMD_REGION_WRITE: Command.REGION_WRITE,
      VFU_FLAG_TYPE_MASK: HeaderFlags.TYPE_MASK,
      VFU_FLAG_TYPE_COMMAND: HeaderFlags.TYPE_COMMAND,
      VFU_FLAG_TYPE_REPLY: HeaderFlags.TYPE_REPLY,
      VFU_FLAG_NO_REPLY: HeaderFlags.NO_REPLY,
      VFU_FLAG_ERROR: HeaderFlags.ERROR,
      VFU_REGION_ACCESS: Sizes.REGION_ACCESS,
      VFU_DEVICE_INFO: Sizes.DEVICE_INFO,
      VFU_REGION_INFO: Sizes.REGION_INFO,
      VFU_REGION_FLAG_READ: RegionInfoFlags.READ,
      VFU_REGION_FLAG_WRITE: RegionInfoFlags.WRITE,
      VFU_MAX_DATA_XFER: MAX_DATA_XFER,
    };
    assert.deepEqual(Object.fromEntries(d), expected);
  });
});

describe('nvgrace-bench-client against the C floor', () => {
  const built = existsSync(client) && existsSync(cfloor);
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-bench-test-'));
  const sock = join(dir, 'floor.sock');
  let floor: ChildProcess | null = null;
  after(() => {
    floor?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  function runClient(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    if (!floor) floor = spawn(cfloor, [sock], { stdio: 'ignore' });
    return new Promise((resolve) => {
      const p = spawn(client, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (b: Buffer) => {
        out += b;
      });
      p.stderr.on('data', (b: Buffer) => {
        err += b;
      });
      p.on('exit', (code) => resolve({ code, out, err }));
    });
  }

  it('reports ops/s per repetition and latency percentiles for each op kind', {
    skip: !built && 'npm ci builds build/Release/nvgrace-bench-*',
  }, async () => {
    for (const [op, count] of [
      ['read', '4'],
      ['write', '1048576'],
      ['posted', '4'],
    ] as const) {
      const r = await runClient([
        ...['--op', op, '--count', count, '--reps', '2', '--window-ms', '20'],
        `f=${sock},0,0`,
      ]);
      assert.equal(r.code, 0, r.err);
      const res = JSON.parse(r.out) as {
        targets: { name: string; reps: number[]; p50: number; p99: number }[];
      };
      assert.equal(res.targets.length, 1);
      const t = res.targets[0]!;
      assert.equal(t.name, 'f');
      assert.equal(t.reps.length, 2);
      assert.ok(t.reps.every((x) => x > 0));
      assert.ok(t.p50 > 0 && t.p99 >= t.p50);
    }
  });

  it('fails naming the target when the region has no room for the access', {
    skip: !built && 'not built',
  }, async () => {
    const r = await runClient(['--op', 'read', '--count', '4', `far=${sock},4,0x1000000`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /far: region 4 is 16777216 bytes: no room/);
  });

  it('fails naming the target when the device has fewer regions', {
    skip: !built && 'not built',
  }, async () => {
    const r = await runClient(['--op', 'read', '--count', '4', `few=${sock},9,0`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /few: region 9: the device has 9 regions/);
  });

  it('exits 2 with usage on --help, an unknown option or a malformed target', {
    skip: !built && 'not built',
  }, () => {
    for (const args of [
      ['--help'],
      ['--bogus'],
      ['--op', 'read', 'no-equals-sign'],
      ['--op', 'peek', `x=${sock},0,0`],
    ]) {
      const r = spawnSync(client, args, { encoding: 'utf8' });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /^usage: nvgrace-bench-client/);
    }
  });
});

describe('npm run bench (bench/run.ts)', () => {
  const run = join(root, 'dist', 'bench', 'run.js');
  it('exits 2 with usage, running nothing, on --help, an unknown option or a bad value', () => {
    for (const args of [['--help'], ['--bogus'], ['--reps', 'x'], ['--cases', 'smal'], ['extra']]) {
      const r = spawnSync(process.execPath, [run, ...args], { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /Usage: npm run bench/);
      assert.doesNotMatch(r.stderr, /machine:/);
    }
  });
});
