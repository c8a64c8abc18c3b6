// The two sides of a benchmark's helper process (a load generator in a process of its own, so its lag
// and garbage never count as the system's latency): the child serves one "run" message and answers
// with messages of its own, then "done" or "error"; the parent forks it, sends the run and gathers.
import { fork } from "node:child_process";
import { hold } from "./cleanup.ts";

type Ended = { type: "done" } | { type: "error"; error: string };

/** In the child: runs `run` on the parent's "run" message; "done" and exit 0, or "error" and exit 1. */
export function serveRun<To extends { type: string }>(run: (m: Extract<To, { type: "run" }>) => Promise<void>): void {
  const send = (m: Ended) => process.send?.(m);
  process.on("message", (m: To) => {
    if (m.type !== "run") return;
    run(m as Extract<To, { type: "run" }>).then(
      () => {
        send({ type: "done" });
        process.exit(0);
      },
      (err: Error) => {
        send({ type: "error", error: err.stack ?? err.message });
        process.exit(1);
      },
    );
  });
  process.on("disconnect", () => process.exit(0));
}

/**
 * In the parent: forks `script` (under tsx), sends it `msg` and hands every other message to
 * `onMessage` until "done" (resolves with what onMessage gathered in `out`) or "error"/an exit without
 * it (rejects, the child killed).
 */
export function runChild<To, From extends { type: string }, R>(script: string, msg: To, out: R, onMessage: (m: From, out: R) => void, onStart?: (pid: number) => void): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    if (child.pid !== undefined) onStart?.(child.pid);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const release = hold(() => {
      child.kill("SIGKILL");
      return exited;
    });
    void exited.then(release);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) {
        child.kill("SIGKILL");
        reject(err);
      } else resolve(out);
    };
    child.on("message", (m: From | Ended) => {
      if (m.type === "done") done();
      else if (m.type === "error") done(new Error(`${script}: ${(m as { error: string }).error}`));
      else onMessage(m as From, out);
    });
    // (Exit 0 is done too: the child exits right after sending "done".)
    child.on("exit", (code) => done(code === 0 ? undefined : new Error(`${script} exited (${code}) before it was done`)));
    child.on("error", (err) => done(err));
    child.send(msg as object);
  });
}
