export { PartitionedInstance } from "./instance.ts";
export { LeaseManager } from "./leases.ts";
export type { LeaseCallbacks } from "./leases.ts";
export { GlobalLedger, CasConflictError } from "./ledger.ts";
export type { BudgetRecord, UnitsRecord } from "./ledger.ts";
export { InventoryKeeper } from "./inventory.ts";
