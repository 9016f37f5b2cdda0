#!/usr/bin/env node
// Makes sure the system tools the e2e tests need are installed: the CNCF distribution registry
// (Debian's docker-registry) and openssl. Quiet and idempotent when both are present; installs
// them with apt-get when running as root, else prints one line saying what to do and exits 1.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

const TOOLS = [
  {
    command: 'docker-registry',
    aptPackage: 'docker-registry',
    paths: ['/usr/bin/docker-registry']
  },
  { command: 'openssl', aptPackage: 'openssl', paths: [] }
]

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    try {
      accessSync(path.join(dir, command), constants.X_OK)
      return true
    } catch {
      // keep looking
    }
  }
  return false
}

function present(tool) {
  return onPath(tool.command) || tool.paths.some(p => existsSync(p))
}

function aptListsFresh() {
  // apt-get update has run if the lists directory holds package lists.
  try {
    const dir = '/var/lib/apt/lists'
    const lists = readdirSync(dir).filter(f => f.endsWith('_Packages'))
    return lists.length > 0 && lists.every(f => statSync(path.join(dir, f)).size > 0)
  } catch {
    return false
  }
}

function run(command, args) {
  const r = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  })
  return r.status === 0
}

const missing = TOOLS.filter(t => !present(t))
if (missing.length === 0) process.exit(0)

const packages = missing.map(t => t.aptPackage)
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (!isRoot || !onPath('apt-get')) {
  console.error(
    `Missing ${missing.map(t => t.command).join(', ')}: install with \`sudo apt-get install -y ${packages.join(' ')}\` (Debian/Ubuntu)`
  )
  process.exit(1)
}

console.error(`Installing ${packages.join(' ')} with apt-get...`)
const installArgs = ['install', '-y', '--no-install-recommends', ...packages]
let ok = (aptListsFresh() || run('apt-get', ['update'])) && run('apt-get', installArgs)
if (!ok && aptListsFresh()) {
  // Stale lists can point at packages the mirror no longer has: refresh once and retry.
  ok = run('apt-get', ['update']) && run('apt-get', installArgs)
}
const stillMissing = TOOLS.filter(t => !present(t))
if (!ok || stillMissing.length > 0) {
  console.error(
    `Could not install ${stillMissing.map(t => t.aptPackage).join(' ') || packages.join(' ')}: run \`apt-get update && apt-get install -y ${packages.join(' ')}\``
  )
  process.exit(1)
}
