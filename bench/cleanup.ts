// What the bench has running or on disk that its sections' own `finally` blocks release: servers,
// child processes, temp dirs. A signal (Ctrl-C, SIGTERM) ends the bench in the middle of an await,
// where no `finally` runs: without this, the temp dirs (nats-server's store among them) stayed behind,
// and on a SIGTERM to the bench alone its nats-servers kept running. run.ts releases what is still
// held here before it exits on a signal.

const held = new Set<() => unknown>();

/** Holds `release` (kill a process, stop a server, remove a dir) until the returned function lets it go. */
export function hold(release: () => unknown): () => void {
  held.add(release);
  return () => void held.delete(release);
}

/** Runs every release still held, together, waiting up to `timeoutMs` for them; returns how many there were. */
export async function releaseAll(timeoutMs: number): Promise<number> {
  const all = [...held];
  held.clear();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(all.map(async (release) => release())),
    new Promise((r) => (timer = setTimeout(r, timeoutMs))),
  ]);
  clearTimeout(timer);
  return all.length;
}
