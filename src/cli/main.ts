/**
 * The command line: `serve`, `inspect`, `profiles`. The only place that reads argv and
 * writes stdout; it composes the layers and maps local failures to exit codes.
 *
 * Exit codes: 0 done, 1 runtime failure (a peer that fails or never answers), 2 bad usage
 * or local refusal (CliError and the stable-coded errors of the transport and host edges).
 * Every error is one line `nvgrace-user: <code>: <message>` (usage errors add one line
 * pointing to --help); a stack trace only for what is a bug. EPIPE on stdout (`| head -1`)
 * ends output quietly.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { NvgraceError } from '../errors/index.js';
import { getProfile, listProfiles, PROFILE_NAMES, type ProfileName } from '../hw/profiles.js';
import {
  EXPOSURE_LAYOUTS,
  KERNEL_BAND_HELP,
  KERNEL_BANDS,
  MSE_POLICIES,
} from '../nvgrace/index.js';
import { errnoName } from '../uapi/errno.js';
import { VfioError } from '../vfio/errors.js';
import { RemoteError } from '../vfio-user/protocol/errors.js';
import { CXL_TIMEOUT_SECONDS } from './build-device.js';
import { CliError } from './errors.js';
import { createLogger, LOG_LEVELS } from './log.js';
import { packageVersion } from './package-version.js';
import { LIMITS_HELP, startServer } from './serve.js';
import { parseSize, type SizeError } from './size.js';
// Subcommands other than serve are loaded when run (inspect, vm-config, ctl, trace-export):
// serve's start-up pays only for what serving needs.
import { VM_FORMATS } from './vm-config/formats.js';
import { ACCELS, ARCHES } from './vm-config/topology.js';

const HELP_POINTER = "Try 'nvgrace-user --help' or 'nvgrace-user <command> --help'.";

function sizeArg(value: string): number {
  try {
    return parseSize(value);
  } catch (e) {
    throw new InvalidArgumentError((e as SizeError).message);
  }
}

function intArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

function buildProgram(out: (s: string) => void): Command {
  const program = new Command('nvgrace-user')
    .description(
      'An NVIDIA Grace Hopper / Grace Blackwell GPU as the Linux nvgrace-gpu VFIO variant driver presents it, served over vfio-user',
    )
    .version(packageVersion(), '-V, --version', 'print the package version')
    .showHelpAfterError(HELP_POINTER)
    .configureOutput({
      writeOut: out,
      // commander's "error: unknown option '--x'" in the house style, help as one pointer.
      outputError: (text, write) => {
        const msg = text.trim().replace(/^error: /, '');
        write(`nvgrace-user: E_USAGE: ${msg}\n`);
      },
    })
    .exitOverride();

  program
    .command('serve')
    .description('serve the emulated GPU to one VMM at a time over a vfio-user UNIX socket')
    .addOption(
      new Option(
        '--socket-path <path>',
        'listen on this UNIX socket path (created mode 0600)',
      ).conflicts(['fd', 'socketDir']),
    )
    .addOption(
      new Option(
        '--socket-dir <dir>',
        'serve --gpus GPUs on DIR/gpu0.sock … DIR/gpu<N-1>.sock (DIR created mode 0700)',
      ).conflicts('fd'),
    )
    .option(
      '--gpus <n>',
      'number of independent GPUs to serve (each its own memory, client and reset; > 1 needs --socket-dir)',
      intArg('--gpus'),
      1,
    )
    .addOption(
      new Option(
        '--fd <n>',
        'use an inherited listening socket (e.g. systemd socket activation)',
      ).argParser(intArg('--fd')),
    )
    .addOption(
      new Option('--profile <name>', 'GPU profile').choices(PROFILE_NAMES).default('gh200'),
    )
    .option(
      '--mem-size <size>',
      'device memory size (bytes, 0x-hex, KiB/MiB/GiB/TiB, KB/MB/GB/TB)',
      sizeArg,
    )
    .addOption(
      new Option('--kernel <band>', `host kernel behaviour band (${KERNEL_BAND_HELP})`)
        .choices(KERNEL_BANDS)
        .default('6.19'),
    )
    .addOption(
      new Option(
        '--mse <policy>',
        'fake BARs and the Command register MSE bit: ignore (upstream) or honour (v15 review: EIO while clear)',
      )
        .choices(MSE_POLICIES)
        .default('ignore'),
    )
    .addOption(
      new Option(
        '--layout <layout>',
        'device memory as fake BARs 2/4 (upstream) or as one device-specific vendor-region (review alternative)',
      )
        .choices(EXPOSURE_LAYOUTS)
        .default('bars'),
    )
    .option(
      '--memory-file <path>',
      'keep device memory in this file (created sparse; must have the device size if it exists)',
    )
    .option(
      '--allow-foreign-memory-file',
      'accept a --memory-file that is a symlink or belongs to another user',
    )
    .addOption(
      new Option(
        '--sync <when>',
        'when --memory-file data is flushed to storage: at shutdown, or after every write',
      )
        .choices(['shutdown', 'always'])
        .default('shutdown'),
    )
    .option(
      '--ready-delay <ms>',
      'time until the card reports ready (BAR0 C2C/HBM status; CXL MEM_ACTIVE on blackwell-next) after power-on and each reset',
      intArg('--ready-delay'),
      0,
    )
    .addOption(
      new Option(
        '--cxl-timeout <s>',
        `blackwell-next: Memory_Active_Timeout its CXL DVSEC reports, seconds (${CXL_TIMEOUT_SECONDS.join(', ')}; default 16)`,
      ).argParser((v: string): number => {
        const n = Number(v);
        if (!CXL_TIMEOUT_SECONDS.includes(n)) {
          throw new InvalidArgumentError(`must be one of ${CXL_TIMEOUT_SECONDS.join(', ')}`);
        }
        return n;
      }),
    )
    .option(
      '--reset-duration <ms>',
      'how long a reset lasts (memory reads all-ones meanwhile)',
      intArg('--reset-duration'),
      0,
    )
    .addOption(
      new Option(
        '--acpi <state>',
        'ACPI nvidia,gpu-mem-size: present, absent or zero (the last two make the driver fall back to plain vfio-pci)',
      )
        .choices(['present', 'absent', 'zero'])
        .default('present'),
    )
    .option('--guest-memory <size>', 'guest RAM in the printed QEMU command line', sizeArg)
    .option(
      '--handshake-timeout <ms>',
      'drop a client that sends no VERSION, or leaves a message unfinished, this long',
      intArg('--handshake-timeout'),
      10000,
    )
    .option(
      '--poll-us <us>',
      'after answering, keep polling the socket this long (µs, ≤ 1000000) before sleeping: lower latency when the VMM runs on another CPU, at the cost of CPU while busy (docs/performance.md)',
      (v: string) => {
        const n = intArg('--poll-us')(v);
        if (n > 1_000_000) throw new InvalidArgumentError('--poll-us must be at most 1000000');
        return n;
      },
      0,
    )
    .option(
      '--control-socket <path>',
      'JSON-RPC 2.0 control socket (faults, resets, interrupts, events, traces; mode 0600; see docs/control-plane.md)',
    )
    .option(
      '--trace <file>',
      'trace every vfio-user message and region access from start-up (JSON lines)',
    )
    .addOption(
      new Option('--log-level <level>', 'log threshold (logs go to stderr as JSON lines)')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .addHelpText('after', LIMITS_HELP)
    .action(async (o) => {
      if (o.socketPath === undefined && o.fd === undefined && o.socketDir === undefined) {
        throw new CliError('E_USAGE', 'serve needs --socket-path PATH, --fd N or --socket-dir DIR');
      }
      const log = createLogger(o.logLevel);
      // Signals are taken from the start: a SIGTERM while the GPUs start (a probe waiting for
      // readiness, or a systemd stop right after READY=1) must not kill the process with the
      // default action and leave a bound socket behind. A stop asked for during start-up is
      // carried out once start-up ends; a second signal then exits at once.
      let stopAsked: string | null = null;
      let onStop: ((signal: string) => void) | null = null;
      const takeSignal = (signal: string) => {
        if (onStop) return onStop(signal);
        if (stopAsked !== null) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
        stopAsked = signal;
        log.info({ signal }, 'shutting down once start-up ends (again to exit now)');
      };
      process.on('SIGTERM', () => takeSignal('SIGTERM'));
      process.on('SIGINT', () => takeSignal('SIGINT'));
      const server = await startServer(
        {
          socketPath: o.socketPath,
          fd: o.fd,
          socketDir: o.socketDir,
          gpus: o.gpus,
          profile: o.profile as ProfileName,
          memSize: o.memSize,
          kernel: o.kernel,
          memoryFile: o.memoryFile,
          allowForeignMemoryFile: Boolean(o.allowForeignMemoryFile),
          sync: o.sync,
          readyDelayMs: o.readyDelay,
          resetDurationMs: o.resetDuration,
          acpi: o.acpi,
          ...(o.cxlTimeout !== undefined ? { cxlTimeoutS: o.cxlTimeout } : {}),
          mse: o.mse,
          layout: o.layout,
          guestMemory: o.guestMemory,
          handshakeTimeoutMs: o.handshakeTimeout,
          pollUs: o.pollUs,
          controlSocket: o.controlSocket,
          traceFile: o.trace,
        },
        log,
        out,
      );
      await new Promise<void>((resolve) => {
        onStop = (signal: string) => {
          onStop = () => {};
          log.info({ signal }, 'shutting down');
          void server.stop().then(resolve);
        };
        if (stopAsked !== null) onStop(stopAsked);
      });
    });

  program
    .command('inspect')
    .description('connect as a VMM would and print what the device looks like (lspci -vv style)')
    .argument('<socket>', 'the server socket path')
    .option('--json', 'print JSON instead of text (config space as one hex string)')
    .option('--hex', 'print config space in `lspci -xxxx` format (decode: lspci -F FILE -vvv)')
    .option('--timeout <ms>', 'per-request timeout', intArg('--timeout'), 5000)
    .action(async (socket: string, o) => {
      out(
        await (await import('./inspect.js')).runInspect(socket, {
          json: Boolean(o.json),
          hex: Boolean(o.hex),
          timeoutMs: o.timeout,
        }),
      );
    });

  program
    .command('vm-config')
    .description(
      'print a launch config attaching the served GPUs as a Grace VM is set up (root port per GPU, 8 Generic Initiator NUMA nodes each, 64-bit window, shared memfd RAM)',
    )
    .argument('<socket...>', 'the GPU sockets, in guest order')
    .addOption(new Option('--arch <arch>', 'guest architecture').choices(ARCHES).default('aarch64'))
    .addOption(new Option('--accel <accel>', 'accelerator').choices(ACCELS).default('kvm'))
    .addOption(
      new Option('--format <format>', 'output format').choices(VM_FORMATS).default('shell'),
    )
    .option('--memory <size>', 'guest RAM (node 0)', sizeArg, 4 * 2 ** 30)
    .option('--cpus <n>', 'guest vCPUs (node 0)', intArg('--cpus'), 2)
    .option(
      '--timeout <ms>',
      'per-request timeout while reading each socket',
      intArg('--timeout'),
      5000,
    )
    .action(async (sockets: string[], o) => {
      const { runVmConfig } = await import('./vm-config/index.js');
      const r = await runVmConfig(sockets, {
        arch: o.arch,
        accel: o.accel,
        format: o.format,
        memory: o.memory,
        cpus: o.cpus,
        timeoutMs: o.timeout,
      });
      for (const w of r.warnings) process.stderr.write(`nvgrace-user: warning: ${w}\n`);
      out(r.text);
    });

  program
    .command('ctl')
    .description(
      'talk to a control socket (serve --control-socket): METHOD [key=value ...] prints the result as JSON; "events" streams notifications (docs/control-plane.md)',
    )
    .argument('<socket>', 'the control socket path')
    .argument(
      '<method>',
      'get_status, inject_fault, clear_faults, reset_device, raise_irq, request_release, disconnect_client, trace_start, trace_stop, or events',
    )
    .argument('[params...]', 'key=value parameters (numbers, 0x-hex, true/false, JSON, or strings)')
    .option('--wait-event <name>', 'then wait for the first event of this type and print it')
    .option(
      '--timeout <ms>',
      'how long to wait for the reply and the event',
      intArg('--timeout'),
      10000,
    )
    .action(async (socket: string, method: string, params: string[], o) => {
      const { runCtl } = await import('./ctl.js');
      process.exitCode = await runCtl(
        socket,
        method,
        params,
        { waitEvent: o.waitEvent, timeoutMs: o.timeout },
        out,
        (s) => process.stderr.write(s),
      );
    });

  program
    .command('trace-export')
    .description(
      'convert an access trace (serve --trace, trace_start) to the Chrome trace-event format, for Perfetto',
    )
    .argument('<in>', 'the JSON-lines trace')
    .argument('<out>', 'where to write the Chrome trace JSON')
    .action(async (input: string, output: string) => {
      const { runTraceExport } = await import('./trace-export.js');
      const n = runTraceExport(input, output);
      out(
        `${n.events} trace events from ${n.records} records written to ${output}${n.skipped ? ` (${n.skipped} unreadable lines skipped)` : ''}\n`,
      );
    });

  program
    .command('profiles')
    .description('list the GPU profiles')
    .option('--json', 'print JSON (name, description, ids, memory size, default) instead of text')
    .action((o: { json?: boolean }) => {
      if (o.json) {
        const list = listProfiles().map((p) => {
          const f = getProfile(p.name);
          const id = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;
          return {
            name: p.name,
            default: p.isDefault,
            description: p.description,
            vendorId: id(f.vendorId),
            deviceId: id(f.deviceId),
            memSize: f.memSize,
          };
        });
        out(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      for (const p of listProfiles())
        out(`${p.name}${p.isDefault ? ' (default)' : ''}\t${p.description}\n`);
    });
  return program;
}

/** Run the CLI; sets process.exitCode rather than exiting, so pending output is flushed. */
export async function main(argv: string[]): Promise<void> {
  let stdoutGone = false;
  // `nvgrace-user profiles | head -1`: the reader left; stop writing, quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stdoutGone = true;
  });
  const out = (s: string) => {
    if (!stdoutGone) process.stdout.write(s);
  };
  const program = buildProgram(out);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    process.exitCode = exitCodeOf(e);
  }
}

const say = (code: string, message: string) =>
  process.stderr.write(`nvgrace-user: ${code}: ${message}\n`);

/** Codes that mean a peer failed us (exit 1); every other named error is local (exit 2). */
const PEER_CODES = new Set(['E_PEER', 'E_BUSY', 'E_INSPECT']);

function exitCodeOf(e: unknown): number {
  const err = e as { code?: string; exitCode?: number; message?: string };
  if (typeof err?.code === 'string' && err.code.startsWith('commander.')) {
    // commander has printed its message (or help, or the version) already; usage errors are exit 2.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof NvgraceError) {
    // Printed as it is: no layer re-wraps another's error.
    say(e.code, e.message);
    if (e.code === 'E_USAGE') process.stderr.write(`${HELP_POINTER}\n`);
    if (e instanceof CliError) return e.exitCode;
    return PEER_CODES.has(e.code) ? 1 : 2;
  }
  if (e instanceof VfioError) {
    // The driver refused to bind (probe), as the kernel would: e.g. memory below 1.5 GiB on
    // the Hopper layout (EOVERFLOW/EINVAL) or a card that never became ready (ETIME).
    say('E_PROBE', `driver probe failed (${errnoName(e.errno)}): ${err.message}`);
    return 2;
  }
  if (e instanceof RangeError) {
    say('E_INVALID', String(err.message));
    return 2;
  }
  if (e instanceof RemoteError) {
    // The peer answered a request with an error reply (a client, e.g. inspect, sees this).
    say('E_PEER', `the server refused a request: ${e.message}`);
    return 1;
  }
  process.stderr.write(`nvgrace-user: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}
