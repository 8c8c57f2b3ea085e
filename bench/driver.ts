/**
 * The benchmark driver: one process per case and mode that spawns the targets and the
 * client (the native client for `native`, VfioUserClient over connectUnix for the cases that
 * measure what only an in-process client can: mapped copies, start-up, interrupt latency). `node dist/bench/driver.js '<CaseSpec JSON>'` spawns the targets the case
 * needs (they inherit this process's CPU affinity), runs it, and prints the raw rows as one
 * JSON line on stdout. The runner (run.ts) starts one driver per case and mode.
 */
import { runIrq } from './cases/irq.js';
import { runMapped } from './cases/mapped.js';
import { runMultiGpu } from './cases/multi-gpu.js';
import { runNative } from './cases/native.js';
import { runPoll } from './cases/poll.js';
import { runStartup } from './cases/startup.js';
import { runTrace } from './cases/trace.js';
import type { TargetSpec } from './lib/targets.js';
import type { CaseContext, CaseSpec, RawRow } from './lib/types.js';

const CASES: Record<string, (ctx: CaseContext) => Promise<RawRow[]>> = {
  native: runNative,
  poll: runPoll,
  trace: runTrace,
  mapped: runMapped,
  startup: runStartup,
  irq: runIrq,
  'multi-gpu': runMultiGpu,
};

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
  const run = CASES[spec.name];
  if (!run) throw new Error(`unknown case ${spec.name}; known: ${Object.keys(CASES).join(', ')}`);
  const floor: TargetSpec = { name: 'floor', kind: 'floor' };
  const server: TargetSpec =
    spec.against === 'floor'
      ? { name: 'floor (as server)', kind: 'floor' }
      : spec.against === 'stack'
        ? { name: 'stack + stub device', kind: 'stack' }
        : { name: 'nvgrace-user', kind: 'server', args: spec.serverArgs ?? [] };
  const rows = await run({ spec, floor, server });
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`driver: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  },
);
