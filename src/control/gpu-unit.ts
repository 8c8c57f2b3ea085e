/**
 * GpuUnit: one served GPU as the control plane drives it — status, faults, host-side
 * operations (reset, interrupts, release request, disconnect), events and the access trace.
 *
 * Rules:
 * - State lives in the model (the card's CardFaults, the vfio core's interrupt and reset
 *   state, the endpoint's counters); this file only reads it, calls it and reports.
 * - Events: client attach/detach/refusal (endpoint), device resets with their cause and
 *   duration (vfio core), readiness reached / timed out after each reset (card registers,
 *   watched with one timer per reset, unref'd), interrupt mode changes, faults.
 * - Readiness after a reset is "reached" when both BAR0 status registers read 0xFF, and
 *   "timed-out" when they still do not READY_TIMEOUT_MS (30 s, the driver's wait) after the
 *   reset: what nvgrace_gpu_wait_device_ready() would conclude.
 * - Methods throw RangeError for bad arguments (the RPC layer maps it to -32602).
 */
import type { Card } from '../hw/card.js';
import type { ActiveFault, FaultKind } from '../hw/faults.js';
import { READY_TIMEOUT_MS } from '../nvgrace/kernel-bands.js';
import { PciIrq } from '../uapi/vfio.js';
import type { VfioDevice } from '../vfio/device.js';
import type { ResetCause, VfioPciDevice } from '../vfio/pci-device.js';
import type { EndpointEvent, ServerEndpoint } from '../vfio-user/server/endpoint.js';
import { type TraceFilter, type TraceRecord, TraceRecorder } from './trace-record.js';
import type { TraceSink } from './trace-sink.js';

export interface GpuUnitParts {
  index: number;
  device: VfioDevice;
  core: VfioPciDevice;
  card: Card;
  endpoint: ServerEndpoint;
  profile: string;
  kernel: string;
  memSize: number;
  /** How long after a reset readiness counts as timed out (default READY_TIMEOUT_MS, the driver's 30 s; tests shorten it). */
  readyTimeoutMs?: number;
}

/** An event as control clients receive it (params of the "event" notification). */
export interface ControlEvent {
  type: string;
  gpu: number;
  time: string;
  [k: string]: unknown;
}

export type FaultRequest =
  | { kind: 'link-down' | 'hbm-untrained' | 'fall-off-bus' }
  | { kind: 'reset-stall'; ms: number }
  | { kind: 'poison'; offset: number; length: number }
  | { kind: 'aer'; severity: 'correctable' | 'uncorrectable' };

const READINESS_POLL_MS = 50;
const IRQ_NAMES = ['intx', 'msi', 'msix', 'err', 'req'] as const;

export class GpuUnit {
  readonly index: number;
  private readonly parts: GpuUnitParts;
  private listener: ((e: ControlEvent) => void) | null = null;
  private readinessTimer: ReturnType<typeof setTimeout> | null = null;
  private readinessStart = 0;
  private sink: TraceSink | null = null;
  private releaseRequests = 0;

  constructor(parts: GpuUnitParts) {
    this.parts = parts;
    this.index = parts.index;
    parts.endpoint.onEvent = (e) => this.endpointEvent(e);
    parts.core.resetObserver = (cause, ms) => this.resetEvent(cause, ms);
    parts.core.irqs.onModeChange = (mode, vectors) => this.emit('irq-mode', { mode, vectors });
  }

  /** Where events go (the control server's fan-out); null = nowhere. */
  onEvent(listener: ((e: ControlEvent) => void) | null): void {
    this.listener = listener;
  }

  private emit(type: string, fields: Record<string, unknown> = {}): void {
    const e: ControlEvent = { type, gpu: this.index, time: new Date().toISOString(), ...fields };
    if (this.sink) {
      this.sink.write({ t: Date.now(), type: 'event', gpu: this.index, event: type, ...fields });
    }
    this.listener?.(e);
  }

  private endpointEvent(e: EndpointEvent): void {
    if (e.type === 'client-detached') this.emit(e.type, { reason: e.reason });
    else this.emit(e.type);
  }

  private resetEvent(cause: ResetCause, durationMs: number): void {
    this.emit('device-reset', { cause, durationMs });
    this.armReadiness();
  }

  /** Watch the readiness registers after a reset: one event, reached or timed out. */
  private armReadiness(): void {
    if (this.readinessTimer) clearTimeout(this.readinessTimer);
    this.readinessStart = this.parts.card.clock.now();
    this.scheduleReadiness(true);
  }

  private scheduleReadiness(first = false): void {
    const card = this.parts.card;
    const elapsed = card.clock.now() - this.readinessStart;
    const limit = this.parts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const left = limit - elapsed;
    const ms = card.readyInMs();
    const fire = (): void => {
      this.readinessTimer = null;
      const now = Math.round(card.clock.now() - this.readinessStart);
      const r = card.readiness();
      if (r.c2cLinkReady && r.hbmTrainingDone) {
        this.emit('readiness-reached', { afterMs: now });
      } else if (now >= limit) {
        this.emit('readiness-timed-out', { afterMs: now, ...r });
      } else {
        this.scheduleReadiness();
      }
    };
    // Re-checks are at least READINESS_POLL_MS apart: readiness can lag readyInMs (a CXL
    // DVSEC, a readiness hook), and a 0 ms loop would spin until the 30 s timeout.
    const wait = ms === null ? left : Math.min(ms, left);
    const floor = first ? 0 : READINESS_POLL_MS;
    this.readinessTimer = setTimeout(fire, Math.max(floor, wait));
    this.readinessTimer.unref?.();
  }

  // --- status ---------------------------------------------------------------------------

  status(): Record<string, unknown> {
    const { card, core, endpoint } = this.parts;
    const r = card.readiness();
    const since = endpoint.attachedSince;
    return {
      gpu: this.index,
      device: this.parts.device.name,
      profile: this.parts.profile,
      kernel: this.parts.kernel,
      memSize: this.parts.memSize,
      attached: endpoint.attached,
      attachedSince: since === null ? null : new Date(since).toISOString(),
      readiness: {
        c2cLinkReady: r.c2cLinkReady,
        hbmTrainingDone: r.hbmTrainingDone,
        ready: r.c2cLinkReady && r.hbmTrainingDone,
      },
      inReset: card.inReset,
      faults: card.faults.list(),
      resets: core.resetCount,
      irq: { mode: core.irqs.activeMode, vectors: core.irqs.activeVectors },
      counters: {
        messages: endpoint.stats.messages,
        errors: endpoint.stats.errors,
        clientsServed: endpoint.served,
        clientsRefused: endpoint.refused,
        releaseRequests: this.releaseRequests,
      },
      trace: this.sink
        ? {
            on: true,
            target: this.sink.target,
            written: this.sink.written,
            dropped: this.sink.dropped,
          }
        : { on: false },
    };
  }

  // --- faults ---------------------------------------------------------------------------

  injectFault(f: FaultRequest): Record<string, unknown> {
    const { card, core } = this.parts;
    const faults = card.faults;
    switch (f.kind) {
      case 'link-down':
        faults.setLinkDown(true);
        break;
      case 'hbm-untrained':
        faults.setHbmUntrained(true);
        break;
      case 'fall-off-bus':
        faults.setOffBus(true);
        break;
      case 'reset-stall':
        faults.setResetStall(f.ms);
        break;
      case 'poison':
        faults.addPoison(f.offset, f.length);
        break;
      case 'aer': {
        const r = core.reportAer(f.severity);
        this.emit('fault-injected', { kind: 'aer', severity: f.severity, ...r });
        return { kind: 'aer', severity: f.severity, ...r };
      }
    }
    this.emit('fault-injected', { ...f });
    return { active: faults.list() };
  }

  clearFaults(): { cleared: ActiveFault[] } {
    const cleared = this.parts.card.faults.clear();
    this.emit('faults-cleared', { cleared });
    // A readiness wait held by a fault may now complete.
    if (this.readinessTimer) {
      clearTimeout(this.readinessTimer);
      this.scheduleReadiness(true);
    }
    return { cleared };
  }

  // --- host-side operations -------------------------------------------------------------

  hostReset(): { resets: number; durationMs: number } {
    this.parts.core.hostReset();
    return { resets: this.parts.core.resetCount, durationMs: this.parts.card.lastResetMs };
  }

  raiseIrq(index: number, vector: number): { signalled: boolean } {
    if (!Number.isInteger(index) || index < 0 || index >= PciIrq.NUM_IRQS) {
      throw new RangeError(`index must be 0..${PciIrq.NUM_IRQS - 1} (INTx, MSI, MSI-X, ERR, REQ)`);
    }
    if (!Number.isInteger(vector) || vector < 0 || vector > 2047) {
      throw new RangeError('vector must be an integer 0..2047');
    }
    const signalled = this.parts.core.irqs.signal(index, vector);
    this.emit('irq-raised', { index, name: IRQ_NAMES[index], vector, signalled });
    return { signalled };
  }

  requestRelease(): { signalled: boolean; count: number } {
    this.releaseRequests++;
    const signalled = this.parts.core.requestRelease();
    this.emit('release-requested', { count: this.releaseRequests, signalled });
    return { signalled, count: this.releaseRequests };
  }

  disconnectClient(): { disconnected: boolean } {
    return { disconnected: this.parts.endpoint.disconnect() };
  }

  // --- trace ----------------------------------------------------------------------------

  get tracing(): boolean {
    return this.sink !== null;
  }

  /** Start tracing into `sink` (replacing a running trace). */
  async traceStart(sink: TraceSink, filter: TraceFilter | null): Promise<void> {
    await this.traceStop();
    sink.retain();
    this.sink = sink;
    const recorder = new TraceRecorder(this.index, (r: TraceRecord) => sink.write(r), filter);
    this.parts.endpoint.tracer = recorder;
    this.emit('trace-started', { target: sink.target, filter });
  }

  async traceStop(): Promise<{ written: number; dropped: number } | null> {
    const sink = this.sink;
    if (!sink) return null;
    this.emit('trace-stopped', {
      target: sink.target,
      written: sink.written,
      dropped: sink.dropped,
    });
    this.parts.endpoint.tracer = null;
    this.sink = null;
    await sink.close();
    return { written: sink.written, dropped: sink.dropped };
  }

  /** Stop a trace whose records go to `owner` (that control connection closed). */
  async traceStopIfOwner(owner: unknown): Promise<void> {
    const s = this.sink as { owner?: unknown } | null;
    if (s && s.owner === owner) await this.traceStop();
  }

  /** Stop timers and the trace (server shutdown). */
  async close(): Promise<void> {
    if (this.readinessTimer) clearTimeout(this.readinessTimer);
    this.readinessTimer = null;
    await this.traceStop();
    this.parts.endpoint.onEvent = null;
    this.parts.core.resetObserver = null;
    this.parts.core.irqs.onModeChange = null;
  }
}

export type { FaultKind };
