/**
 * Runner tool caches for e2e runs, laid out as @actions/tool-cache expects
 * (`<cache>/helm/<version>/x64/helm` plus the `<cache>/helm/<version>/x64.complete` marker), so
 * runs with an exact `helm-version` start with no download.
 */
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { helmBinary } from './helm-binaries.js'
import { makeTempDir } from './paths.js'
import { actionNode } from './runner.js'

const ARCH = 'x64'

function toolDir(cache: string, version: string): string {
  return path.join(cache, 'helm', version.replace(/^v/, ''), ARCH)
}

async function markComplete(cache: string, version: string): Promise<void> {
  await writeFile(`${toolDir(cache, version)}.complete`, '')
}

/** A tool cache holding (symlinks to) the real Helm binaries of `versions`. */
export async function prewarmedToolCache(versions: readonly string[]): Promise<string> {
  const cache = await makeTempDir('tc-warm')
  for (const version of versions) {
    const dir = toolDir(cache, version)
    await mkdir(dir, { recursive: true })
    await symlink(await helmBinary(version), path.join(dir, 'helm'))
    await markComplete(cache, version)
  }
  return cache
}

/**
 * A tool cache whose `helm` is a recording wrapper: each call appends one JSON line
 * `{"argv":[...],"env":{...}}` to `logFile`, then execs the real Helm of `version`.
 */
export async function recordingToolCache(
  versions: readonly string[],
  logFile: string
): Promise<string> {
  const cache = await makeTempDir('tc-rec')
  const record =
    'const fs=require("fs");fs.appendFileSync(process.env.HELM_E2E_RECORD_LOG,' +
    'JSON.stringify({argv:process.argv.slice(1),env:Object.fromEntries(Object.entries(process.env).filter(([k])=>k!=="HELM_E2E_RECORD_LOG"))})+"\\n")'
  for (const version of versions) {
    const dir = toolDir(cache, version)
    await mkdir(dir, { recursive: true })
    const wrapper = path.join(dir, 'helm')
    await writeFile(
      wrapper,
      [
        '#!/bin/sh',
        `HELM_E2E_RECORD_LOG=${JSON.stringify(logFile)} ${JSON.stringify(actionNode())} -e ${shellQuote(record)} -- "$@" || exit 97`,
        `exec ${JSON.stringify(await helmBinary(version))} "$@"`,
        ''
      ].join('\n')
    )
    await chmod(wrapper, 0o755)
    await markComplete(cache, version)
  }
  return cache
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}
