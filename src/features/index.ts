export { WindowCounts, COUNTED_TYPES, WINDOWS } from "./windows.ts";
export type { CountedType, WindowName } from "./windows.ts";
export { CustomerState, observe, featuresOf, featureView, offersWithin, offerFits, recordOffer, newestOfferMs, NEVER_MINUTES } from "./customer.ts";
export type { FeatureVector, ObservedEvent } from "./customer.ts";
export { FeatureStore } from "./store.ts";
export type { FeatureStoreOptions } from "./store.ts";
