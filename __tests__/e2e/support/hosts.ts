/**
 * A private /etc/hosts for one process tree: `withHosts(map)` returns a runAction wrapCommand
 * that runs the step in its own mount namespace (`unshare -m`, root only) with a hosts file that
 * maps the given names. Map names to an address where nothing listens (127.0.0.2) to make direct
 * connections to them fail, so only a proxy gets through.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { tempRoot } from './paths.js'

/** Whether this process may make a private mount namespace (root, with unshare(1)). */
export function canUseHosts(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0
}

export function withHosts(
  map: Record<string, string>
): (command: string, args: string[]) => { command: string; args: string[] } {
  const file = path.join(mkdtempSync(path.join(tempRoot(), 'helm-ecr-e2e-hosts-')), 'hosts')
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback']
  for (const [name, address] of Object.entries(map)) lines.push(`${address} ${name}`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  // Not a shell: sh drops variables whose names are not identifiers, such as INPUT_HELM-VERSION.
  const launcher = [
    "const { execFileSync, spawnSync } = require('node:child_process')",
    "execFileSync('mount', ['--bind', process.argv[1], '/etc/hosts'])",
    "const r = spawnSync(process.argv[2], process.argv.slice(3), { stdio: 'inherit' })",
    'process.exit(r.status ?? 1)'
  ].join('\n')
  return (command, args) => ({
    command: 'unshare',
    args: [
      '-m',
      '--propagation',
      'private',
      process.execPath,
      '-e',
      launcher,
      file,
      command,
      ...args
    ]
  })
}
