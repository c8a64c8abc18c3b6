export { WindowCounts, COUNTED_TYPES, WINDOWS } from "./windows.ts";
export type { CountedType, WindowName } from "./windows.ts";
export { CustomerState, observe, beginVisit, noteProductView, clearVisitViews, noteOutcome, featuresOf, featureView, offersWithin, offerFits, recordOffer, newestOfferMs, NEVER_MINUTES, customerToJSON, customerFromJSON } from "./customer.ts";
export type { FeatureVector, ObservedEvent, CustomerJSON, VisitState } from "./customer.ts";
export { FeatureStore, StoreSnapshot } from "./store.ts";
export type { FeatureStoreOptions, StoreState } from "./store.ts";
