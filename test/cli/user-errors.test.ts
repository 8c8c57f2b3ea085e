/**
 * Errors a user can act on: the real CLI, run as a user would, answers every ordinary
 * mistake and every failing peer with one line `nvgrace-user: <code>: <message>` (plus one
 * pointer to --help for usage errors), the documented exit code, and never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  attachClient,
  BIN,
  cleanup,
  closeFd,
  startChildServer,
  stopChildServer,
  tempDir,
  until,
} from '../lifecycle/helpers.js';

function run(args: string[], timeout = 30_000) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout });
}

const STACK = /\n\s+at /;
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function assertOneLineError(stderr: string, code: RegExp): void {
  assert.doesNotMatch(stderr, STACK, `stack trace in: ${stderr}`);
  assert.match(stderr.split('\n')[0]!, new RegExp(`^nvgrace-user: ${code.source}: \\S`));
}

describe('usage errors', () => {
  it('--version prints the package version and exits 0', () => {
    const r = run(['--version']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('an unknown flag exits 2 with one error line and one line pointing to --help', () => {
    const r = run(['serve', '--no-such-flag']);
    assert.equal(r.status, 2);
    assertOneLineError(r.stderr, /E_USAGE/);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[1]!, /--help/);
  });

  it('serve without a socket exits 2 with E_USAGE and the pointer', () => {
    const r = run(['serve']);
    assert.equal(r.status, 2);
    assertOneLineError(r.stderr, /E_USAGE/);
    assert.match(r.stderr, /--help/);
  });

  for (const [what, path] of [
    ['longer than 107 bytes', `/tmp/${'x'.repeat(120)}.sock`],
    ['empty', ''],
  ] as const) {
    it(`a socket path ${what} exits 2 with E_PATH_LENGTH`, () => {
      const r = run(['serve', '--socket-path', path]);
      assert.equal(r.status, 2, r.stderr);
      assertOneLineError(r.stderr, /E_PATH_LENGTH/);
      const i = run(['inspect', path]);
      assert.equal(i.status, 2, i.stderr);
      assertOneLineError(i.stderr, /E_PATH_LENGTH/);
    });
  }

  it('inspect of a socket nobody listens on exits 2 with E_CONNECT', () => {
    const r = run(['inspect', '/tmp/nvgrace-user-nobody-here.sock']);
    assert.equal(r.status, 2);
    assertOneLineError(r.stderr, /E_CONNECT/);
  });
});

describe('EPIPE on stdout ends quietly', () => {
  for (const args of [['profiles'], ['serve', '--help'], ['--help']]) {
    it(`\`${args.join(' ')} | (reader that leaves at once)\` exits 0 with nothing on stderr`, async () => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.destroy(); // the reader is gone before the first write
      let err = '';
      child.stderr!.on('data', (d) => {
        err += d;
      });
      const code = await new Promise((r) => child.on('exit', r));
      assert.equal(err, '');
      assert.equal(code, 0);
    });
  }
});

describe('inspect against a failing peer exits 1 with E_PEER and no stack trace', () => {
  let dir: string;
  const servers: Server[] = [];
  /** A fake server at `name` that does `behave` with each connection. */
  function fake(name: string, behave: (c: import('node:net').Socket) => void): Promise<string> {
    const path = join(dir, name);
    const srv = createServer(behave);
    servers.push(srv);
    return new Promise((r) => srv.listen(path, () => r(path)));
  }
  function inspect(path: string): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [BIN, 'inspect', '--timeout', '500', path], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    return new Promise((r) => child.on('exit', (code) => r({ code, stderr })));
  }
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nvgrace-cli-peer-'));
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a server that never answers: a timeout', async () => {
    const held: import('node:net').Socket[] = [];
    const r = await inspect(await fake('mute.sock', (c) => held.push(c)));
    for (const c of held) c.destroy();
    assert.equal(r.code, 1, r.stderr);
    assertOneLineError(r.stderr, /E_PEER/);
    assert.match(r.stderr, /no reply in 500 ms/);
  });

  it('a server that answers garbage', async () => {
    const r = await inspect(
      await fake('garbage.sock', (c) => c.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')),
    );
    assert.equal(r.code, 1, r.stderr);
    assertOneLineError(r.stderr, /E_PEER/);
  });

  it('a server that hangs up at once', async () => {
    const r = await inspect(await fake('hangup.sock', (c) => c.end()));
    assert.equal(r.code, 1, r.stderr);
    assertOneLineError(r.stderr, /E_PEER/);
  });
});

describe('sizes in QEMU form', () => {
  it('`serve --mem-size 96G` serves 96 GiB of device memory', async () => {
    const dir = tempDir();
    const s = await startChildServer(dir, ['--mem-size', '96G']);
    try {
      await until(() => s.stdout().includes('device memory'), 'banner');
      assert.match(s.stdout(), /device memory: 96 GiB \(103079215104 bytes\)/);
      const c = await attachClient(s.socketPath);
      const bar4 = await c.regionInfo(4);
      if (bar4.fd !== null) closeFd(bar4.fd);
      assert.equal(bar4.size, 128n * 2n ** 30n, 'BAR4: 96 GiB rounded up to a power of two');
      c.close();
    } finally {
      await stopChildServer(s);
      cleanup(dir);
    }
  });
});
