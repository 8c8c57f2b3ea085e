import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const bin = join(import.meta.dirname, '../../../bin/nvgrace-user');

function run(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('serve refuses what the driver would not bind, with a stable code', () => {
  it('memory below 1.5 GiB on the Hopper layout exits 2 with E_PROBE (EOVERFLOW) and leaves no socket', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-cli-'));
    try {
      const r = run(['serve', '--socket-path', join(dir, 's.sock'), '--mem-size', '256MiB']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /E_PROBE: driver probe failed \(EOVERFLOW\)/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad size unit exits 2 and says what is accepted', () => {
    const r = run(['serve', '--socket-path', '/tmp/never.sock', '--mem-size', '96Q']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /KiB MiB GiB TiB/);
  });
});
