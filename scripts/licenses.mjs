// Licence notices for what the bundles ship. ncc's --license lists only packages that carry a
// licence file it recognises, so it leaves some out; this builds the list from the bundles
// themselves: the source maps name every bundled file (dist/), and where there is no map
// (dist/post/), webpack's module comments name the packages it concatenated or imported, closed
// over their package.json dependencies. Each package gets its name, version, SPDX licence and
// licence text (its own file, else the standard text of its declared licence).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const LICENSE_FILE = /^(licen[cs]e|copying)(\.(md|txt|markdown))?$/i
const NOTICE_FILE = /^notice(\.(md|txt))?$/i
export const NOTICES_FILE = 'licenses.txt'

/** `…/node_modules/@scope/name/lib/x.js` -> `node_modules/@scope/name` (nested ones kept). */
export function packageDirOf(file) {
  const start = file.indexOf('node_modules/')
  if (start < 0) return undefined
  const rest = file.slice(start)
  return /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(rest)?.[1]
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}

/** Node's lookup of `dependency` from the package in `fromDir` (relative to root). */
function resolvePackage(root, fromDir, dependency) {
  let dir = fromDir
  for (;;) {
    const candidate = path.join(dir, 'node_modules', dependency)
    if (existsSync(path.join(root, candidate, 'package.json'))) return candidate
    const up = dir.lastIndexOf('node_modules')
    if (up < 0) return undefined
    dir = dir.slice(0, up).replace(/\/$/, '')
  }
}

/**
 * The package directories (relative to `root`, e.g. `node_modules/semver`) whose code is in the
 * bundle in `distDir` (its own .js files and maps, not its subdirectories).
 */
export function bundledPackages(distDir, root = process.cwd()) {
  const files = readdirSync(distDir).filter(f => statSync(path.join(distDir, f)).isFile())
  const maps = files.filter(f => f.endsWith('.js.map'))
  const found = new Set()
  for (const map of maps) {
    for (const source of readJson(path.join(distDir, map)).sources) {
      const dir = packageDirOf(source)
      if (dir) found.add(dir)
    }
  }
  if (maps.length > 0) return [...found].sort()
  // No source map: module comments, then what those packages need.
  for (const js of files.filter(f => f.endsWith('.js'))) {
    const text = readFileSync(path.join(distDir, js), 'utf8')
    for (const [, file] of text.matchAll(/^(?:;)?\/\/ (?:CONCATENATED|EXTERNAL) MODULE: (\S+)/gm)) {
      const dir = packageDirOf(file)
      if (dir) found.add(dir)
    }
  }
  const queue = [...found]
  while (queue.length > 0) {
    const dir = queue.pop()
    const pkg = readJson(path.join(root, dir, 'package.json'))
    for (const dependency of Object.keys(pkg.dependencies ?? {})) {
      const depDir = resolvePackage(root, dir, dependency)
      if (depDir && !found.has(depDir)) {
        found.add(depDir)
        queue.push(depDir)
      }
    }
  }
  return [...found].sort()
}

function declaredLicense(pkg) {
  if (typeof pkg.license === 'string') return pkg.license
  if (pkg.license?.type) return pkg.license.type
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map(l => l.type ?? l).join(' OR ')
  return undefined
}

function authorOf(pkg) {
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name
  return author ?? `the ${pkg.name} authors`
}

/** Standard texts for packages that declare a licence but ship no file. */
function standardText(spdx, pkg, apacheText) {
  const holder = `Copyright (c) ${authorOf(pkg)}`
  switch (spdx) {
    case 'Apache-2.0':
      return apacheText
    case 'MIT':
      return `MIT License\n\n${holder}\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the "Software"), to deal\nin the Software without restriction, including without limitation the rights\nto use, copy, modify, merge, publish, distribute, sublicense, and/or sell\ncopies of the Software, and to permit persons to whom the Software is\nfurnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\nIMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\nFITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\nAUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\nLIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\nOUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\nSOFTWARE.\n`
    case 'ISC':
      return `ISC License\n\n${holder}\n\nPermission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee is hereby granted, provided that the above\ncopyright notice and this permission notice appear in all copies.\n\nTHE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES\nWITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF\nMERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR\nANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES\nWHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN\nACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF\nOR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.\n`
    default:
      return undefined
  }
}

/** One notice per package: `name version`, `License: SPDX`, then the texts. */
export function notices(packageDirs, root = process.cwd()) {
  const apacheSource = readFileSync(
    path.join(root, 'node_modules', '@aws-sdk', 'core', 'LICENSE'),
    'utf8'
  )
  const problems = []
  const blocks = []
  for (const dir of packageDirs) {
    const full = path.join(root, dir)
    const pkg = readJson(path.join(full, 'package.json'))
    const spdx = declaredLicense(pkg)
    const entries = readdirSync(full)
    const own = entries.filter(f => LICENSE_FILE.test(f)).sort()
    const notice = entries.filter(f => NOTICE_FILE.test(f)).sort()
    let texts = [...own, ...notice].map(f => readFileSync(path.join(full, f), 'utf8').trimEnd())
    if (own.length === 0) {
      const standard = spdx && standardText(spdx, pkg, apacheSource)
      if (!standard) {
        problems.push(`${pkg.name}@${pkg.version} (${spdx ?? 'no licence declared'})`)
        continue
      }
      texts = [
        `(${pkg.name} ships no licence file; its package.json declares ${spdx}. The standard text follows.)\n\n${standard.trimEnd()}`,
        ...texts
      ]
    }
    blocks.push(
      [
        '='.repeat(78),
        `${pkg.name} ${pkg.version}`,
        `License: ${spdx ?? 'see below'}`,
        '-'.repeat(78),
        texts.join(`\n\n${'-'.repeat(78)}\n\n`)
      ].join('\n')
    )
  }
  if (problems.length > 0) {
    throw new Error(
      `no licence text for ${problems.join(', ')}: add a standard text to scripts/licenses.mjs`
    )
  }
  return `Third-party software bundled in this directory (${packageDirs.length} packages)\n\n${blocks.join('\n\n')}\n`
}

/** Writes `<distDir>/licenses.txt` for the bundle in `distDir`; returns the packages. */
export function writeNotices(distDir, root = process.cwd()) {
  const packages = bundledPackages(distDir, root)
  writeFileSync(path.join(distDir, NOTICES_FILE), notices(packages, root))
  return packages
}
