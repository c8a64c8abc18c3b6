import { build } from "esbuild";
import { join } from "node:path";
import { REPO_ROOT } from "../config/index.ts";

export interface Bundle {
  /** The dashboard (web/main.ts), served as /app.js. */
  js: string;
  /** The shop a person can browse (web/shop.ts), served as /shop.js. */
  shopJs: string;
}

/**
 * Builds the dashboard and the shop (Lit + uPlot; the shop also bundles promo-stream/client) in memory
 * at start, in one esbuild run; nothing is written to disk. Two bundles rather than one: the shop's page
 * does not load the charts, the dashboard does not load the client.
 */
export async function bundleDashboard(): Promise<Bundle> {
  const r = await build({
    entryPoints: { app: join(REPO_ROOT, "web/main.ts"), shop: join(REPO_ROOT, "web/shop.ts") },
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: false,
    outdir: "/out",
    // CSS is imported as text and adopted into the components' shadow roots (uPlot's stylesheet would
    // not reach a chart inside a shadow root from the document head).
    loader: { ".css": "text" },
    tsconfig: join(REPO_ROOT, "web/tsconfig.json"),
    logLevel: "silent",
  });
  const out = (name: string) => r.outputFiles.find((f) => f.path.endsWith(`/${name}.js`))?.text ?? "";
  return { js: out("app"), shopJs: out("shop") };
}
