// Rebuild the native addon (and the benchmark programs) when a source under src/native or
// bench/native (or binding.gyp) is newer than what was built, so `npm run build` / `npm test` in a worktree never run a stale addon after a
// pull or rebase changed the C code. A clean checkout builds it at `npm ci` already.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const outputs = ['nvgrace_user.node', 'nvgrace-bench-client', 'nvgrace-bench-floor'].map((f) =>
  join('build', 'Release', f),
);
const sources = [
  'binding.gyp',
  ...['src', 'bench'].flatMap((d) =>
    readdirSync(join(d, 'native')).map((f) => join(d, 'native', f)),
  ),
];
const built = Math.min(...outputs.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
if (sources.some((f) => statSync(f).mtimeMs > built)) {
  process.stderr.write('native addon is older than its sources: rebuilding\n');
  try {
    execSync('npm run install', { stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(`${e.stderr ?? e}\n`);
    process.exit(1);
  }
}
