/**
 * `npm run bench`: every case against the real server (`bin/nvgrace-user serve`) and the floor
 * (`dist/bench/floor.js`), each a separate process from the driver (the client), pinned (all on
 * CPU 0 via `taskset -c 0`, when taskset exists) and unpinned. Prints one table per mode and
 * writes all of it as JSON (bench/results/latest.json unless --out).
 *
 * Options: --reps N (default 7, at least 5 for a real run), --window MS (per repetition,
 * default 300), --cases small,bulk,mapped,startup,irq, --modes pinned,unpinned,
 * --against server|floor|stack (who plays the server: the real one, default; the floor again,
 * to check the harness alone; the real protocol stack over a stub device, for profiling),
 * --out PATH,
 * --markdown (also print the tables as markdown).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { formatMarkdown, formatTable, type ResultRow, summarize } from './lib/report.js';
import { ROOT } from './lib/targets.js';
import type { CaseSpec, RawRow } from './lib/types.js';

const ALL_CASES = ['small', 'bulk', 'mapped', 'startup', 'irq'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function machine() {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim();
  return {
    cpuModel: model ?? cpus()[0]?.model ?? 'unknown',
    nproc: Number(nproc) || cpus().length,
    node: process.version,
    kernel: release(),
    memTotalGiB:
      Math.round(
        (Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 2 ** 20) *
          10,
      ) / 10,
  };
}

function hasTaskset(): boolean {
  const r = spawnSync('taskset', ['-c', '0', 'true']);
  return r.status === 0;
}

function runDriver(spec: CaseSpec, pinned: boolean): Promise<RawRow[]> {
  const driver = join(ROOT, 'dist', 'bench', 'driver.js');
  const argv = [process.execPath, driver, JSON.stringify(spec)];
  const cmd = pinned ? ['taskset', '-c', '0', ...argv] : argv;
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    p.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`case ${spec.name} failed (exit ${code}):\n${err}`));
      const last = out.trim().split('\n').pop() ?? '[]';
      resolvePromise(JSON.parse(last) as RawRow[]);
    });
  });
}

async function main(): Promise<void> {
  const reps = Number(arg('--reps') ?? 7);
  const windowMs = Number(arg('--window') ?? 300);
  const cases = (arg('--cases') ?? ALL_CASES.join(',')).split(',');
  const against = (arg('--against') ?? 'server') as CaseSpec['against'];
  const taskset = hasTaskset();
  let modes = (arg('--modes') ?? 'pinned,unpinned').split(',') as ('pinned' | 'unpinned')[];
  if (!taskset) {
    process.stderr.write('taskset not found (util-linux): reporting unpinned runs only\n');
    modes = modes.filter((m) => m !== 'pinned');
  }
  const out = resolve(arg('--out') ?? join(ROOT, 'bench', 'results', 'latest.json'));
  const m = machine();
  process.stderr.write(
    `machine: ${m.cpuModel}, nproc ${m.nproc}, Node ${m.node}, Linux ${m.kernel}; reps ${reps}, window ${windowMs} ms\n`,
  );
  const started = performance.now();
  const results: ResultRow[] = [];
  for (const mode of modes) {
    const rows: ResultRow[] = [];
    for (const name of cases) {
      const t0 = performance.now();
      process.stderr.write(`[${mode}] ${name} … `);
      const raw = await runDriver({ name, reps, windowMs, against }, mode === 'pinned');
      rows.push(...summarize(mode, raw));
      process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    results.push(...rows);
    const title =
      mode === 'pinned' ? 'pinned: client and server on CPU 0 (taskset -c 0)' : 'unpinned';
    process.stdout.write(`\n${title}\n${formatTable(rows)}\n`);
    if (process.argv.includes('--markdown')) process.stdout.write(`\n${formatMarkdown(rows)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((r) => r.holds === false);
  process.stdout.write(
    `\n${results.filter((r) => r.holds !== null).length - failed.length} budgets hold, ${failed.length} fail; ${seconds.toFixed(0)} s\n`,
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: m,
        options: { reps, windowMs, cases, modes, against, taskset },
        seconds,
        rows: results,
      },
      null,
      2,
    )}\n`,
  );
  const md = [
    `Machine: ${m.cpuModel}, ${m.nproc} CPUs (nproc), ${m.memTotalGiB} GiB RAM, Node ${m.node}, Linux ${m.kernel}. ${reps} repetitions per case (median shown), ${windowMs} ms windows; ${seconds.toFixed(0)} s in all.`,
    ...modes.map(
      (mode) =>
        `\n**${mode === 'pinned' ? 'Pinned' : 'Unpinned'}**${mode === 'pinned' ? ' (client, server and floor all on CPU 0: `taskset -c 0`)' : ' (the scheduler places the processes on either CPU)'}\n\n${formatMarkdown(results.filter((r) => r.mode === mode))}`,
    ),
  ].join('\n');
  writeFileSync(out.replace(/\.json$/, '.md'), `${md}\n`);
  process.stdout.write(`results written to ${out} (and .md)\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
