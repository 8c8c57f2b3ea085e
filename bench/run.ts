/**
 * `npm run bench [-- options]`: every case against our server (`bin/nvgrace-user serve`),
 * the floors and, when NVGRACE_BENCH_LVU names libvfio-user's gpio-pci-idio-16, that sample;
 * each target a separate process from the client, pinned (all on CPU 0 via `taskset -c 0`,
 * when taskset exists) and unpinned. Prints one table per mode.
 *
 * Rules: options are checked (commander); an unknown option, a bad value or --help prints
 * usage and exits 2, before anything runs. Results are written only where asked: --out PATH
 * (JSON, and the tables as .md beside it); the committed results (bench/results/latest.*,
 * the README table) change only with --update-readme. Exit 1 when a budget fails or a case
 * errs (unless --no-fail, which still reports them), 0 otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatMarkdown, formatTable, type ResultRow, summarize } from './lib/report.js';
import { lvuProgram, ROOT } from './lib/targets.js';
import type { CaseSpec, RawRow } from './lib/types.js';

const ALL_CASES = ['native', 'trace', 'poll', 'mapped', 'startup', 'irq', 'multi-gpu'];
const MODES = ['pinned', 'unpinned'] as const;
type Mode = (typeof MODES)[number];
const README_BEGIN = '<!-- bench:begin (npm run bench -- --update-readme) -->';
const README_END = '<!-- bench:end -->';

interface Options {
  reps: number;
  window: number;
  cases: string[];
  modes: Mode[];
  against: CaseSpec['against'];
  pollUs?: number;
  out?: string;
  markdown: boolean;
  updateReadme: boolean;
  fail: boolean;
}

function intIn(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function listOf<T extends string>(known: readonly T[]) {
  return (v: string): T[] => {
    const items = v.split(',').filter(Boolean);
    const bad = items.filter((x) => !known.includes(x as T));
    if (items.length === 0 || bad.length > 0)
      throw new InvalidArgumentError(
        `unknown: ${bad.join(', ') || '(empty)'}; known: ${known.join(', ')}`,
      );
    return items as T[];
  };
}

function parseOptions(argv: string[]): Options {
  const program = new Command('npm run bench --')
    .description('vfio-user benchmarks: our server beside the floors and libvfio-user')
    .addOption(
      new Option('--reps <n>', 'timed repetitions per case and target (≥ 5 for a real run)')
        .argParser(intIn(1, 64))
        .default(7),
    )
    .addOption(
      new Option('--window <ms>', 'length of one timed window')
        .argParser(intIn(10, 60000))
        .default(300),
    )
    .addOption(
      new Option('--cases <list>', `cases to run (${ALL_CASES.join(',')})`)
        .argParser(listOf(ALL_CASES))
        .default(ALL_CASES),
    )
    .addOption(
      new Option('--modes <list>', 'pinned,unpinned').argParser(listOf(MODES)).default([...MODES]),
    )
    .addOption(
      new Option('--against <who>', 'who plays our server: the real one, the floor, or the stack')
        .choices(['server', 'floor', 'stack'])
        .default('server'),
    )
    .addOption(
      new Option('--poll-us <n>', 'run our server with serve --poll-us N').argParser(intIn(0, 1e6)),
    )
    .option('--out <path>', 'write the results as JSON here (and the tables as .md beside it)')
    .option('--markdown', 'also print the tables as markdown', false)
    .option(
      '--update-readme',
      'write bench/results/latest.{json,md} and the README table (the committed results)',
      false,
    )
    .option('--no-fail', 'exit 0 even when a budget fails')
    .helpOption('-h, --help', 'print this usage and exit 2')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    // commander has printed the usage (--help) or the error; after an error, the usage too.
    if ((e as { code?: string }).code !== 'commander.helpDisplayed')
      process.stderr.write(`\n${program.helpInformation()}`);
    process.exit(2);
  }
  return program.opts<Options>();
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

const TITLE: Record<Mode, string> = {
  pinned: 'Pinned (client, servers and floors all on CPU 0: `taskset -c 0`)',
  unpinned: 'Unpinned (the scheduler places the processes on either CPU)',
};

function writeResults(path: string, doc: object, md: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(`${path.replace(/\.json$/, '')}.md`, `${md}\n`);
}

function updateReadme(md: string): void {
  const path = join(ROOT, 'README.md');
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(README_BEGIN);
  const b = text.indexOf(README_END);
  if (a < 0 || b < a)
    throw new Error(`README.md lacks the ${README_BEGIN} … ${README_END} markers`);
  writeFileSync(path, `${text.slice(0, a + README_BEGIN.length)}\n\n${md}\n\n${text.slice(b)}`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const taskset = hasTaskset();
  let modes = o.modes;
  if (!taskset) {
    process.stderr.write('taskset not found (util-linux): reporting unpinned runs only\n');
    modes = modes.filter((m) => m !== 'pinned');
  }
  if (o.reps < 5) process.stderr.write(`--reps ${o.reps}: fewer than 5, not a real run\n`);
  const lvu = lvuProgram();
  const m = machine();
  process.stderr.write(
    `machine: ${m.cpuModel}, nproc ${m.nproc}, Node ${m.node}, Linux ${m.kernel}; reps ${o.reps}, window ${o.window} ms; libvfio-user: ${lvu ?? 'not set (NVGRACE_BENCH_LVU)'}\n`,
  );
  const serverArgs = o.pollUs !== undefined ? ['--poll-us', String(o.pollUs)] : [];
  const started = performance.now();
  const results: ResultRow[] = [];
  const errors: string[] = [];
  for (const mode of modes) {
    const rows: ResultRow[] = [];
    for (const name of o.cases) {
      const t0 = performance.now();
      process.stderr.write(`[${mode}] ${name} … `);
      const spec: CaseSpec = {
        name,
        reps: o.reps,
        windowMs: o.window,
        against: o.against,
        mode,
        serverArgs,
      };
      try {
        rows.push(...summarize(mode, await runDriver(spec, mode === 'pinned')));
        process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (e) {
        errors.push(`[${mode}] ${(e as Error).message}`);
        process.stderr.write(`FAILED\n${(e as Error).message}\n`);
      }
    }
    results.push(...rows);
    process.stdout.write(`\n${TITLE[mode]}\n${formatTable(rows)}\n`);
    if (o.markdown) process.stdout.write(`\n${formatMarkdown(rows)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((r) => r.holds === false);
  const judged = results.filter((r) => r.holds !== null).length;
  const unjudged = results.filter((r) => r.budget !== null && r.holds === null).length;
  process.stdout.write(
    `\n${judged - failed.length} budgets hold, ${failed.length} fail, ${unjudged} not judged; ${errors.length} case errors; ${seconds.toFixed(0)} s\n`,
  );
  const doc = {
    date: new Date().toISOString(),
    machine: m,
    options: { ...o, modes, taskset, libvfioUser: lvu !== null },
    seconds,
    errors,
    rows: results,
  };
  const md = [
    `Machine: ${m.cpuModel}, ${m.nproc} CPUs (nproc), ${m.memTotalGiB} GiB RAM, Node ${m.node}, Linux ${m.kernel}. ${o.reps} interleaved repetitions per case (median shown), ${o.window} ms windows${o.pollUs !== undefined ? `, our server with --poll-us ${o.pollUs}` : ''}; libvfio-user ${lvu ? 'gpio-pci-idio-16' : 'not run'}; ${seconds.toFixed(0)} s in all.`,
    ...modes.map(
      (mode) => `\n**${TITLE[mode]}**\n\n${formatMarkdown(results.filter((r) => r.mode === mode))}`,
    ),
  ].join('\n');
  if (o.out) {
    const out = resolve(o.out);
    writeResults(out, doc, md);
    process.stdout.write(`results written to ${out} (and .md)\n`);
  }
  if (o.updateReadme) {
    writeResults(join(ROOT, 'bench', 'results', 'latest.json'), doc, md);
    updateReadme(md);
    process.stdout.write('bench/results/latest.{json,md} and README.md updated\n');
  }
  if ((failed.length > 0 || errors.length > 0) && o.fail) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
