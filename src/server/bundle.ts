import { build } from "esbuild";
import { join } from "node:path";
import { REPO_ROOT } from "../config/index.ts";

export interface Bundle {
  js: string;
  css: string;
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
    loader: { ".css": "css" },
    tsconfig: join(REPO_ROOT, "web/tsconfig.json"),
    logLevel: "silent",
  });
  let js = "";
  let css = "";
  for (const f of r.outputFiles) {
    if (f.path.endsWith(".js")) js = f.text;
    else if (f.path.endsWith(".css")) css = f.text;
  }
  return { js, css };
}
