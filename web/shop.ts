// The shop a person can browse (/shop, bundled as /shop.js): its own entry, so the page loads neither
// the dashboard's charts nor the dashboard the client.
import "./components/ps-shop.ts";
