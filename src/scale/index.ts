export { PartitionedInstance } from "./instance.ts";
export { LeaseManager } from "./leases.ts";
export type { LeaseCallbacks } from "./leases.ts";
export { GlobalLedger } from "./ledger.ts";
export { CasConflictError, ScaleError, PS_ERR_SCALE } from "./errors.ts";
export type { ScaleErrorCode } from "./errors.ts";
export type { BudgetRecord, UnitsRecord } from "./ledger.ts";
export { InventoryKeeper } from "./inventory.ts";
