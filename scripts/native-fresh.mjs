// Rebuild the native addon when a source under src/native (or binding.gyp) is newer than the
// built addon, so `npm run build` / `npm test` in a worktree never run a stale addon after a
// pull or rebase changed the C code. A clean checkout builds it at `npm ci` already.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const addon = join('build', 'Release', 'nvgrace_user.node');
const sources = [
  'binding.gyp',
  ...readdirSync(join('src', 'native')).map((f) => join('src', 'native', f)),
];
const built = existsSync(addon) ? statSync(addon).mtimeMs : 0;
if (sources.some((f) => statSync(f).mtimeMs > built)) {
  process.stderr.write('native addon is older than its sources: rebuilding\n');
  try {
    execSync('npm run install', { stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(`${e.stderr ?? e}\n`);
    process.exit(1);
  }
}
