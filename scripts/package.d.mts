export interface Bundles {
  dir: string
  main: string
  post: string
}
/** Builds both bundles from src/ into `out` (default dist/). */
export declare function buildBundles(out?: string): Promise<Bundles>
