import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// Runs from dist/test/protocol; the sources sit at the repository root.
const DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'vfio-user', 'protocol');

describe('the protocol layer stays pure', () => {
  it('imports only its own modules: no Node APIs, no Buffer, no higher layer', () => {
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(DIR, file), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        assert.match(m[1]!, /^\.\/[a-z-]+\.js$/, `${file} imports ${m[1]}`);
      }
      assert.doesNotMatch(
        text,
        /\bBuffer\b|\bprocess\.|setTimeout|require\(/,
        `${file} uses a Node API`,
      );
    }
  });
});
