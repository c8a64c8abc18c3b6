export { DashboardServer } from "./server.ts";
export type { HealthReport } from "./server.ts";
export { Fanout } from "./fanout.ts";
export type { FanoutOptions } from "./fanout.ts";
export { Hub } from "./hub.ts";
export { bundleDashboard } from "./bundle.ts";
export type { DashboardState, ServerFrame, ClientFrame, SimStatusView, Mark } from "./protocol.ts";
