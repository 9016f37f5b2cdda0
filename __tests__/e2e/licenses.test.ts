/**
 * Issue 10: the bundles ship a licence notice for every package they contain. The package list
 * is read from the bundle built from src/ for this run (source maps of the main bundle), so a
 * package that gets bundled without a notice, or a notices file that goes missing, fails. The
 * post bundle (issue 17) holds no package at all.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundleDir, REPO_ROOT } from '../../testbed/paths.js'
// @ts-expect-error: a plain .mjs build script without types
import { bundledPackages, packageDirOf } from '../../scripts/licenses.mjs'

const DIST = bundleDir()

/** `name version` of each notice in a licenses.txt. */
function noticeHeads(dir: string): Set<string> {
  const text = readFileSync(path.join(dir, 'licenses.txt'), 'utf8')
  return new Set([...text.matchAll(/^={78}\n(\S+ \S+)\n/gm)].map(m => m[1]))
}

function head(packageDir: string): string {
  const pkg = JSON.parse(
    readFileSync(path.join(REPO_ROOT, packageDir, 'package.json'), 'utf8')
  ) as { name: string; version: string }
  return `${pkg.name} ${pkg.version}`
}

describe('licence notices of the bundles', () => {
  it('dist/licenses.txt names every package in the source maps of dist/', () => {
    const sources = readdirSync(DIST)
      .filter(f => f.endsWith('.js.map'))
      .flatMap(
        f => (JSON.parse(readFileSync(path.join(DIST, f), 'utf8')) as { sources: string[] }).sources
      )
    const packages = new Set(
      sources.map(s => packageDirOf(s) as string | undefined).filter(Boolean)
    )
    expect(packages.size).toBeGreaterThan(30)
    const heads = noticeHeads(DIST)
    const missing = [...packages].map(p => head(p as string)).filter(h => !heads.has(h))
    expect(missing).toEqual([])
    // ncc's own --license left these out (no licence file in the package).
    expect([...heads].some(h => h.startsWith('@aws-sdk/credential-provider-http '))).toBe(true)
  })

  it('the post bundle uses Node built-ins only: no package, no notices, a few kilobytes', () => {
    const post = path.join(DIST, 'post')
    const code = readFileSync(path.join(post, 'index.js'), 'utf8')
    // webpack names each module it concatenated: our sources and Node's built-ins only.
    const modules = [...code.matchAll(/\/\/ (?:CONCATENATED|EXTERNAL) MODULE: (.+)$/gm)].map(
      m => m[1]
    )
    expect(modules.length).toBeGreaterThan(3)
    expect(modules.filter(m => !/^(\.\/src\/|external "node:)/.test(m))).toEqual([])
    expect(code).not.toMatch(/node_modules/)
    expect(bundledPackages(post, REPO_ROOT)).toEqual([])
    expect(readdirSync(post).sort()).toEqual(['index.js', 'package.json'])
    expect(code.length).toBeLessThan(16 * 1024)
  })

  it('the repository is MIT-licensed', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8')
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) 2026 helm-ecr-publish contributors\n/)
  })
})
