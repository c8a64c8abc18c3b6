// One animation-frame queue shared by every chart. Eight charts redrawn in the same frame made one
// task of 50–100 ms at 1200 points each (test/measure/page-soak.ts: about two long tasks a second at
// 10×); run from this queue, each frame redraws charts until FRAME_BUDGET_MS of script has been spent
// and leaves the rest for the next frames, so input and the other frames are not held up.
const FRAME_BUDGET_MS = 8;

const queue = new Set<() => void>();
let pending = 0;

function run(): void {
  pending = 0;
  const start = performance.now();
  for (const job of queue) {
    queue.delete(job);
    job();
    if (performance.now() - start >= FRAME_BUDGET_MS) break;
  }
  if (queue.size) pending = requestAnimationFrame(run);
}

/** Runs `job` in a coming animation frame; queuing it again before it ran changes nothing. */
export function inFrame(job: () => void): void {
  queue.add(job);
  if (!pending) pending = requestAnimationFrame(run);
}

/** Forgets a queued job (its host went away). */
export function cancelFrame(job: () => void): void {
  queue.delete(job);
}
