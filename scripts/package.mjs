// Builds the action's two bundles from src/ into OUT (default dist/): `node scripts/package.mjs [OUT]`.
// Main with its chunks and source maps, the post step on Node's built-ins only (tidy-dist.mjs
// checks that and writes the licence notices). The e2e global setup builds into its run's
// temporary directory with this same function, so e2e always tests the source.
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tidyDist } from './tidy-dist.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NCC = path.join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js')

function ncc(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NCC, 'build', ...args, '--target', 'es2022', '-q'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolve()
        : reject(new Error(`ncc ${args[0]} failed (exit ${code}): ${stderr.trim()}`))
    )
  })
}

/** Builds both bundles into `out` (emptied first); both ncc runs at once. */
export async function buildBundles(out = path.join(ROOT, 'dist')) {
  await rm(out, { recursive: true, force: true })
  await Promise.all([
    ncc(['src/index.ts', '-o', out, '--source-map', '--license', 'licenses.txt']),
    ncc(['src/post.ts', '-o', path.join(out, 'post')])
  ])
  tidyDist(out, ROOT)
  return { dir: out, main: path.join(out, 'index.js'), post: path.join(out, 'post', 'index.js') }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await buildBundles(process.argv[2] ? path.resolve(process.argv[2]) : undefined)
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(1)
  }
}
