import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/hw/x.js → repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function imports(dir: string): { file: string; spec: string }[] {
  const out: { file: string; spec: string }[] = [];
  for (const f of readdirSync(join(root, dir))) {
    if (!f.endsWith('.ts')) continue;
    const text = readFileSync(join(root, dir, f), 'utf8');
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) out.push({ file: f, spec: m[1] ?? '' });
  }
  return out;
}

describe('layering of pci and hw', () => {
  it('src/pci imports only itself (no Node APIs, no higher layer)', () => {
    const bad = imports('src/pci').filter((i) => !i.spec.startsWith('./'));
    assert.deepEqual(bad, []);
  });

  it('src/hw imports only itself and src/pci (no Node APIs, no higher layer)', () => {
    const bad = imports('src/hw').filter(
      (i) => !i.spec.startsWith('./') && !i.spec.startsWith('../pci/'),
    );
    assert.deepEqual(bad, []);
  });
});
