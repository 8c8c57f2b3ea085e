/**
 * systemd integration: the shipped units in contrib/systemd pass `systemd-analyze verify`,
 * and the server started the way a socket unit starts it (systemd-socket-activate: the
 * listening socket as fd 3) serves a VMM and sends READY=1 to $NOTIFY_SOCKET — a path or an
 * abstract ('@') name. Skipped, visibly, where the systemd tools or python3 (the test's
 * datagram receiver) are absent.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { attachClient, BIN, cleanup, sleep, tempDir, until } from '../lifecycle/helpers.js';

const UNITS = fileURLToPath(new URL('../../../contrib/systemd/', import.meta.url));
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('systemd units and readiness', () => {
  it('contrib/systemd units pass systemd-analyze verify with no warning', (t) => {
    if (!has('systemd-analyze')) {
      t.skip('systemd-analyze not installed (Debian: systemd)');
      return;
    }
    const dir = tempDir('nvgrace-units-');
    try {
      const files: string[] = [];
      for (const f of readdirSync(UNITS)) {
        // ExecStart must exist: point it at this checkout; instantiate templates as GPU 0.
        const text = readFileSync(join(UNITS, f), 'utf8').replaceAll('/usr/bin/nvgrace-user', BIN);
        const name = f.replace('@.', '@0.');
        writeFileSync(join(dir, name), text);
        if (name !== f) copyFileSync(join(dir, name), join(dir, f));
        files.push(join(dir, name));
      }
      assert.ok(files.some((f) => f.endsWith('@0.socket')) && files.length >= 3);
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], {
        encoding: 'utf8',
        cwd: dir,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'systemd-analyze warned');
    } finally {
      cleanup(dir);
    }
  });

  for (const abstract of [false, true]) {
    it(`socket-activated (fd 3) it serves a VMM and sends READY=1 to ${abstract ? 'an abstract' : 'a path'} NOTIFY_SOCKET`, async (t) => {
      if (!has('systemd-socket-activate') || !has('python3')) {
        t.skip('needs systemd-socket-activate (Debian: systemd) and python3 (the receiver)');
        return;
      }
      const dir = tempDir('nvgrace-notify-');
      const notify = abstract ? `@nvgrace-user-test-${process.pid}` : join(dir, 'notify');
      const sock = join(dir, 'gpu0.sock');
      const procs: ChildProcess[] = [];
      try {
        // A datagram receiver that prints the first message it gets.
        const py = [
          'import socket,sys',
          's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)',
          'a=sys.argv[1]',
          "s.bind('\\0'+a[1:] if a.startswith('@') else a)",
          "print('bound',flush=True)",
          's.settimeout(30)',
          "print(s.recv(4096).decode().replace('\\n',' '),flush=True)",
        ].join('\n');
        const rx = spawn('python3', ['-c', py, notify], { stdio: ['ignore', 'pipe', 'inherit'] });
        procs.push(rx);
        let got = '';
        rx.stdout!.on('data', (d) => {
          got += d;
        });
        await until(() => got.includes('bound'), 'receiver bound', 15000);
        const server = spawn(
          'systemd-socket-activate',
          [
            '-l',
            sock,
            '-E',
            `NOTIFY_SOCKET=${notify}`,
            process.execPath,
            BIN,
            'serve',
            '--fd',
            '3',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        procs.push(server);
        let banner = '';
        server.stdout!.on('data', (d) => {
          banner += d;
        });
        // systemd-socket-activate starts the service when the first client connects.
        const c = await attachClient(sock);
        assert.equal((await c.deviceInfo()).numIrqs, 5);
        c.close();
        await until(() => /READY=1/.test(got), 'READY=1', 15000);
        assert.match(got, /STATUS=serving/);
        await until(() => banner.includes('QEMU'), 'banner', 5000);
        assert.match(banner, /socket: \(inherited fd\)/);
        assert.match(banner, /<SOCKET-PATH>/, 'the QEMU line has a placeholder for the path');
      } finally {
        for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
        await sleep(100);
        cleanup(dir);
      }
    });
  }
});
