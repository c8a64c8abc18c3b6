import { build } from "esbuild";
import { join } from "node:path";
import { REPO_ROOT } from "../config/index.ts";

export interface Bundle {
  js: string;
}

/** Builds the dashboard (web/main.ts, Lit + uPlot) in memory at start; nothing is written to disk. */
export async function bundleDashboard(): Promise<Bundle> {
  const r = await build({
    entryPoints: [join(REPO_ROOT, "web/main.ts")],
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
  const js = r.outputFiles.find((f) => f.path.endsWith(".js"))?.text ?? "";
  return { js };
}
