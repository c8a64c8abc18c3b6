// esbuild bundles .css imports as text (src/server/bundle.ts), for Lit's shadow-DOM styles.
declare module "*.css" {
  const text: string;
  export default text;
}
