export declare const DIST: string
export declare function differingFiles(expected: string, actual: string): string[]
/** One line telling what is stale and how to fix it, or undefined when dist/ is fresh. */
export declare function staleMessage(fresh: string, dist?: string): string | undefined
