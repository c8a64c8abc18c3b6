// Pure: what the header's status and the simulator panel say about the connection and the parts
// behind it. The page's own socket can be up while nothing reaches the server from NATS (an outage):
// then the processor's figures stop, and the page says so instead of "live".
import type { Freshness, SimAbsence } from "../../src/server/index.ts";

export type ConnectionStatus = "connecting" | "open" | "reconnecting";

/** KPI snapshots missed before the figures count as stale; at least STALE_AFTER_MIN_MS. */
export const STALE_SNAPSHOTS = 5;
const STALE_AFTER_MIN_MS = 3_000;

export interface StatusView {
  text: string;
  /** Figures arriving as they should. */
  ok: boolean;
}

/**
 * How long the page may hear nothing on an open socket before its figures count as stale, and before
 * the socket is taken for dead and opened again. The server sends a frame every server.deltaEveryMs
 * whatever happens; a connection cut without a close (a network that drops packets, a sleeping laptop's
 * Wi-Fi) stays "open" to the page, which showed "live" over frozen figures until TCP gave up, minutes on.
 */
export function silenceLimits(frameEveryMs: number | undefined): { staleMs: number; deadMs: number } {
  const staleMs = Math.max(SILENT_MIN_MS, SILENT_FRAMES * (frameEveryMs ?? 0));
  return { staleMs, deadMs: 3 * staleMs };
}
const SILENT_MIN_MS = 5_000;
const SILENT_FRAMES = 20;

/** The header's status from the socket's state, the freshness the last frame carried, and how long since a frame came (ms). */
export function connectionView(status: ConnectionStatus, fresh: Partial<Freshness>, silentMs = 0): StatusView {
  if (status !== "open") return { text: status, ok: false };
  if (silentMs > silenceLimits(fresh.frameEveryMs).staleMs) return { text: `no update from the server for ${Math.floor(silentMs / 1000)} s`, ok: false };
  // A server older than Freshness says nothing of it: its socket being open is all there is to go by.
  if (fresh.kpiAgeMs === undefined) return { text: "live", ok: true };
  if (fresh.kpiAgeMs === null) return { text: "no report from the processor yet", ok: false };
  const staleAfterMs = Math.max(STALE_AFTER_MIN_MS, STALE_SNAPSHOTS * (fresh.kpiEveryMs ?? 0));
  if (fresh.kpiAgeMs > staleAfterMs) return { text: `processor has not reported for ${Math.floor(fresh.kpiAgeMs / 1000)} s`, ok: false };
  return { text: "live", ok: true };
}

/**
 * What each part showing the processor's figures (the header's counters, the arms table, the safe-start
 * panel) says of them: null while they are current or there are none; otherwise that they are the last
 * report's, and why. Only the status badge said so, while those parts stayed as if current.
 */
export function staleNote(conn: StatusView, hasFigures: boolean): string | null {
  return conn.ok || !hasFigures ? null : `not current: ${conn.text}`;
}

/**
 * Why the simulator's controls are missing: advice to start it only when it is known not to run.
 * `heard` is whether any frame has come from the server: before one (no access token, the server down
 * when the page opened) the page knows nothing of the simulator and must not say it is not running.
 */
export function simAbsentText(why: SimAbsence | null | undefined, heard = true): { text: string; start: boolean } {
  if (!heard) return { text: "Simulator: no word from the server yet.", start: false };
  if (why === "no-answer") return { text: "The simulator cannot be reached: nothing answered on sim.control (NATS may be down or unreachable from the server, or the simulator is stuck).", start: false };
  return { text: "Simulator not running", start: true };
}

/**
 * What a failed WebSocket connect was, found by asking an HTTP route of the same server: a browser
 * hides the upgrade's answer (a 401 without the token) from page code, so the page would retry
 * forever without saying why. `probe` is that route's HTTP status, "unreachable" when the request
 * itself failed, or "offline" when the browser knows it has no network (then nothing is asked);
 * `pageUrl` is the page's own address.
 */
export function connectProblem(probe: number | "unreachable" | "offline", pageUrl: string): string | null {
  if (probe === "offline") return "this browser is offline";
  if (probe === "unreachable") return "server not reachable";
  if (probe === 401) {
    const u = new URL(pageUrl);
    if (u.searchParams.has("token")) return "the access token in the page's address is wrong: it must be the server's API_TOKEN";
    u.searchParams.set("token", "API_TOKEN");
    return `needs the access token: open the page as ${u.origin}${u.pathname}?${u.searchParams.toString().replace("token=API_TOKEN", "token=<API_TOKEN>")}`;
  }
  if (probe >= 200 && probe < 300) return "the server answers but refused the WebSocket (is this page's origin in server.allowedOrigins?)";
  return `the server answered HTTP ${probe}`;
}

/**
 * The simulator's measured event rate as its panel shows it. A rate is a figure of now: with the page's
 * socket down the last one received (a server restart: the simulator may be paused, gone or faster) is
 * not shown as current.
 */
export function simRateText(ratePerSec: number, status: ConnectionStatus): string {
  return status === "open" ? `${ratePerSec.toFixed(0)} events/s` : "– events/s";
}
