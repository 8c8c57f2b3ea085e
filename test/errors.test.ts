/**
 * The error taxonomy (src/errors): one base class, one closed table of codes with one
 * prefix. The table is checked against the sources both ways: every code a source file
 * names is in the table, and every code in the table is used somewhere (no stale entries).
 * Every named error class is an NvgraceError.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../src/cli/errors.js';
import { SizeError } from '../src/cli/size.js';
import { ControlSocketError } from '../src/control/server.js';
import { ERROR_CODES, isErrorCode, NvgraceError } from '../src/errors/index.js';
import { HostError } from '../src/host/errors.js';
import { ClientError, DeviceBusyError } from '../src/vfio-user/client/client.js';
import { ProtocolError } from '../src/vfio-user/protocol/errors.js';
import { TransportError } from '../src/vfio-user/transport/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(join(root, dir))) {
    const p = join(dir, f);
    if (statSync(join(root, p)).isDirectory()) out.push(...sources(p));
    else if (f.endsWith('.ts') && !p.startsWith(join('src', 'errors'))) out.push(p);
  }
  return out;
}

/** Quoted code-like strings in the sources ('E_…'), errno names ('EINVAL') excluded. */
function codesUsed(): Map<string, string> {
  const used = new Map<string, string>();
  for (const f of sources('src')) {
    for (const m of readFileSync(join(root, f), 'utf8').matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g))
      used.set(m[1]!, f);
  }
  return used;
}

describe('error taxonomy', () => {
  const codes = Object.keys(ERROR_CODES);

  it('every code has one prefix (E_) and a description', () => {
    for (const c of codes) {
      assert.match(c, /^E_[A-Z][A-Z0-9_]*$/, c);
      assert.ok(ERROR_CODES[c as keyof typeof ERROR_CODES].length > 10, `${c} has no description`);
    }
  });

  it('every code a source names is in the table', () => {
    const unknown = [...codesUsed()]
      .filter(([c]) => !isErrorCode(c))
      .map(([c, f]) => `${c} (${f})`);
    assert.deepEqual(unknown, []);
  });

  it('every code in the table is used by some source (no stale entries)', () => {
    const used = codesUsed();
    assert.deepEqual(
      codes.filter((c) => !used.has(c)),
      [],
    );
  });

  it('no source uses the old styles (ERR_*, E<NAME> codes) for error codes', () => {
    const old =
      /new (?:TransportError|HostError|ProtocolError|CliError|ControlSocketError)\(\s*'(?!E_)/;
    const bad = sources('src').filter((f) => old.test(readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(bad, []);
  });

  it('every named error class is an NvgraceError carrying its code', () => {
    const samples: [NvgraceError, string][] = [
      [new CliError('E_USAGE', 'x'), 'E_USAGE'],
      [new SizeError('x'), 'E_SIZE'],
      [new ControlSocketError('E_CONTROL_SOCKET', 'x'), 'E_CONTROL_SOCKET'],
      [new HostError('E_MEMFILE_SIZE', 'x'), 'E_MEMFILE_SIZE'],
      [new ClientError('x'), 'E_PEER'],
      [new DeviceBusyError(), 'E_BUSY'],
      [new ProtocolError('E_PAYLOAD', 'x'), 'E_PAYLOAD'],
      [new TransportError('E_ADDR_IN_USE', 'x'), 'E_ADDR_IN_USE'],
    ];
    for (const [e, code] of samples) {
      assert.ok(e instanceof NvgraceError, e.name);
      assert.equal(e.code, code);
      assert.notEqual(e.name, 'Error');
    }
  });
});
