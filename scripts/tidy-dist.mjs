// After ncc (scripts/package.mjs): both entry points must exist; <out>/licenses.txt gets complete
// licence notices (replacing ncc's partial one). The post bundle must stay on Node's built-ins
// (it starts about as fast as `node -e 0` that way): a third-party package in it, or a bundle
// past 16 kB, fails the build.
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { bundledPackages, writeNotices } from './licenses.mjs'

export const POST_BUNDLE_LIMIT = 16 * 1024

/** Checks the bundles in `out` and writes their licence notices; throws on a problem. */
export function tidyDist(out, root = process.cwd()) {
  const main = path.join(out, 'index.js')
  const post = path.join(out, 'post', 'index.js')
  for (const f of [main, post]) {
    if (!existsSync(f)) throw new Error(`missing ${f}`)
  }
  const postPackages = bundledPackages(path.dirname(post), root)
  if (postPackages.length > 0) {
    throw new Error(`${post} must use Node's built-ins only; it bundles ${postPackages.join(', ')}`)
  }
  const size = statSync(post).size
  if (size > POST_BUNDLE_LIMIT) {
    throw new Error(`${post} is ${size} bytes; keep the post step under ${POST_BUNDLE_LIMIT}`)
  }
  writeNotices(out, root)
}
