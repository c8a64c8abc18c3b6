// Garbage in a benchmark child (issue 24): the bytes it allocated, from V8's GC profiler (between one
// collection's end and the next one's start the used heap only grows by what was allocated), and each
// collection's pause from perf_hooks' "gc" performance entries. Read through ChildStats.
import { GCProfiler } from "node:v8";
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";

/** Pauses kept between two reads (a read takes them); beyond it the oldest are dropped. */
const MAX_PAUSES = 200_000;

interface HeapPoint {
  usedHeapSize: number;
}
interface GcStat {
  beforeGC: { heapStatistics: HeapPoint };
  afterGC: { heapStatistics: HeapPoint };
}

export class GcMeter {
  private profiler = new GCProfiler();
  private allocated = 0;
  private lastUsed: number;
  private pauses: number[] = [];
  /** Each pause's kind (perf_hooks' constants.NODE_PERFORMANCE_GC_*: 1 minor, 4 major, 8 incremental, 16 weak callbacks), in the same order. */
  private kinds: number[] = [];
  private readonly observer: PerformanceObserver;

  constructor(private readonly usedHeap: () => number) {
    this.lastUsed = usedHeap();
    this.profiler.start();
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.pauses.push(e.duration);
        this.kinds.push((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0);
        if (this.pauses.length > MAX_PAUSES) {
          this.pauses.splice(0, this.pauses.length - MAX_PAUSES);
          this.kinds.splice(0, this.kinds.length - MAX_PAUSES);
        }
      }
    });
    this.observer.observe({ entryTypes: ["gc"] });
  }

  /** Bytes allocated since the meter started (estimated from the used heap around each collection). */
  allocatedBytes(): number {
    const r = this.profiler.stop() as { statistics: GcStat[] };
    for (const s of r.statistics) {
      this.allocated += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - this.lastUsed);
      this.lastUsed = s.afterGC.heapStatistics.usedHeapSize;
    }
    const now = this.usedHeap();
    this.allocated += Math.max(0, now - this.lastUsed);
    this.lastUsed = now;
    this.profiler = new GCProfiler();
    this.profiler.start();
    return this.allocated;
  }

  /** The collections' pauses (ms) since the last call, and the kind of each. */
  takePauses(): { ms: number[]; kinds: number[] } {
    const r = { ms: this.pauses, kinds: this.kinds };
    this.pauses = [];
    this.kinds = [];
    return r;
  }
}
