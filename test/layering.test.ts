import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/layering.test.js → repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(join(root, dir))) {
    const p = join(dir, f);
    if (statSync(join(root, p)).isDirectory()) out.push(...walk(p));
    else if (f.endsWith('.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  file: string;
  spec: string;
  /** Repository-relative target for relative imports, else the bare specifier. */
  target: string;
}

const SPEC =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of walk('src')) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(SPEC)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      const target = spec.startsWith('.')
        ? normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts')
        : spec;
      out.push({ file, spec, target });
    }
  }
  return out;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/** The layers that must stay free of Node APIs and packages (they run anywhere). */
const PURE = [
  'src/errors',
  'src/uapi',
  'src/pci',
  'src/hw',
  'src/vfio',
  'src/nvgrace',
  'src/vfio-user/protocol',
];

/** May `file` import `target`? */
function allowed(file: string, target: string): boolean {
  if (under(file, 'src/cli')) return true;
  const bare = !target.startsWith('src/');
  const own = (dir: string) => under(target, dir);
  if (under(file, 'src/uapi')) return own('src/uapi');
  if (under(file, 'src/errors')) return own('src/errors');
  // The uAPI numbers and the error taxonomy are the bottom layer: everyone may import them.
  if (own('src/uapi') || own('src/errors')) return true;
  if (under(file, 'src/pci')) return own('src/pci');
  if (under(file, 'src/hw')) return own('src/hw') || own('src/pci');
  if (under(file, 'src/vfio')) return own('src/vfio') || own('src/hw') || own('src/pci');
  if (under(file, 'src/nvgrace')) {
    return own('src/nvgrace') || own('src/vfio') || own('src/hw') || own('src/pci');
  }
  if (under(file, 'src/vfio-user/protocol')) return own('src/vfio-user/protocol');
  // The device seam: the server and client know the model only through these (no hw type).
  const seam = ['src/vfio/device.ts', 'src/vfio/errors.ts'];
  // The native addon's loader: Node only; the I/O edges (transport, host) use it.
  if (under(file, 'src/native')) return bare || own('src/native');
  if (under(file, 'src/vfio-user/transport')) {
    return (
      bare || own('src/vfio-user/transport') || own('src/vfio-user/protocol') || own('src/native')
    );
  }
  if (under(file, 'src/vfio-user/server') || under(file, 'src/vfio-user/client')) {
    const mine = under(file, 'src/vfio-user/server')
      ? 'src/vfio-user/server'
      : 'src/vfio-user/client';
    return (
      bare ||
      own(mine) ||
      own('src/vfio-user/protocol') ||
      own('src/vfio-user/transport') ||
      seam.includes(target)
    );
  }
  // The control plane is an I/O edge over the model and the server; only the CLI composes it.
  if (under(file, 'src/control')) return !own('src/cli');
  if (under(file, 'src/host')) {
    return (
      bare ||
      own('src/host') ||
      [
        'src/hw/memory.ts',
        'src/hw/clock.ts',
        'src/vfio/device.ts',
        'src/vfio-user/server/host.ts',
      ].includes(target) ||
      own('src/vfio-user/transport') ||
      own('src/native')
    );
  }
  return true;
}

describe('layering: no upward imports (uapi ← pci ← hw ← vfio ← nvgrace; vfio-user seams)', () => {
  it('pure layers import no Node APIs or packages', () => {
    const bad = edges().filter(
      (e) => PURE.some((d) => under(e.file, d)) && !e.target.startsWith('src/'),
    );
    assert.deepEqual(bad, []);
  });

  it('pure layers use no Node globals (Buffer, process, timers, require)', () => {
    const bad = walk('src')
      .filter((f) => PURE.some((d) => under(f, d)))
      .filter((f) =>
        /\bBuffer\b|\bprocess\.|setTimeout|require\(/.test(readFileSync(join(root, f), 'utf8')),
      );
    assert.deepEqual(bad, []);
  });

  it('every import points down or sideways', () => {
    const bad = edges().filter((e) => !allowed(e.file, e.target));
    assert.deepEqual(
      bad.map((e) => `${e.file} → ${e.spec}`),
      [],
    );
  });

  it('the checker itself catches an upward import', () => {
    assert.equal(allowed('src/hw/x.ts', 'src/vfio/device.ts'), false);
    assert.equal(allowed('src/vfio/x.ts', 'src/nvgrace/index.ts'), false);
    assert.equal(allowed('src/vfio-user/server/x.ts', 'src/nvgrace/index.ts'), false);
    assert.equal(allowed('src/vfio-user/server/x.ts', 'src/hw/card.ts'), false);
    assert.equal(allowed('src/vfio-user/server/x.ts', 'src/hw/memory.ts'), false);
    assert.equal(allowed('src/vfio-user/protocol/x.ts', 'src/vfio-user/transport/y.ts'), false);
    assert.equal(allowed('src/pci/x.ts', 'src/hw/card.ts'), false);
    assert.equal(allowed('src/hw/x.ts', 'src/pci/constants.ts'), true);
    assert.equal(allowed('src/uapi/x.ts', 'src/vfio/errors.ts'), false);
    assert.equal(allowed('src/vfio-user/protocol/x.ts', 'src/vfio/device.ts'), false);
    assert.equal(allowed('src/vfio-user/protocol/x.ts', 'src/uapi/vfio.ts'), true);
    assert.equal(allowed('src/native/x.ts', 'src/vfio-user/transport/y.ts'), false);
    assert.equal(allowed('src/vfio/x.ts', 'src/native/addon.ts'), false);
    assert.equal(allowed('src/cli/x.ts', 'src/nvgrace/index.ts'), true);
    assert.equal(allowed('src/control/x.ts', 'src/cli/serve.ts'), false);
    assert.equal(allowed('src/control/x.ts', 'src/hw/faults.ts'), true);
    void relative;
  });
});
