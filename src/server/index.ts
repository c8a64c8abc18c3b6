export { DashboardServer } from "./server.ts";
export { ServerError, PS_ERR_SERVER, portInUse } from "./errors.ts";
export type { ServerErrorCode } from "./errors.ts";
export type { HealthReport } from "./server.ts";
export { Fanout } from "./fanout.ts";
export type { FanoutOptions } from "./fanout.ts";
export { Hub } from "./hub.ts";
export { bundleDashboard } from "./bundle.ts";
export type { DashboardState, ServerFrame, ClientFrame, SimStatusView, Mark, OutcomeBrief, CatalogItemView } from "./protocol.ts";
