// ncc writes the post bundle's own copies of shared chunks; nothing to tidy yet beyond
// making sure both entry points exist.
import { existsSync } from 'node:fs'
for (const f of ['dist/index.js', 'dist/post/index.js']) {
  if (!existsSync(f)) {
    console.error(`missing ${f}`)
    process.exit(1)
  }
}
