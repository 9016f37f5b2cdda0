// After ncc: both entry points must exist, and each bundle gets complete licence notices
// (dist/licenses.txt replaces ncc's partial one; dist/post/licenses.txt is new).
import { existsSync } from 'node:fs'
import { writeNotices } from './licenses.mjs'

for (const f of ['dist/index.js', 'dist/post/index.js']) {
  if (!existsSync(f)) {
    console.error(`missing ${f}`)
    process.exit(1)
  }
}
try {
  for (const dir of ['dist', 'dist/post']) writeNotices(dir)
} catch (error) {
  console.error(`licence notices: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
