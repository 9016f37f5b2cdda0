/**
 * Name mapping for one process tree: the wrapped command runs in a private mount namespace
 * (`unshare -m`, root only) with its own hosts file bound over /etc/hosts, so fixed production
 * names (fulcio.sigstore.dev, a proxy's upstreams, ...) resolve to loopback fakes for that
 * process and its children only. Map names to an address where nothing listens (127.0.0.2) to
 * make direct connections to them fail, so only a proxy gets through.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { tempRoot } from './paths.js'

export type WrapCommand = (command: string, args: string[]) => { command: string; args: string[] }

/** Whether this process may create mount namespaces (Linux, root, with unshare(1)). */
export function canMapHosts(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0
}

/**
 * A runAction() wrapCommand that resolves each name of `map` to its address (IPv4 or IPv6
 * literal). localhost keeps resolving to loopback; every other name is unknown, as on a runner
 * without DNS.
 */
export function withHosts(map: Record<string, string>, inner?: WrapCommand): WrapCommand {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback']
  for (const [name, address] of Object.entries(map)) lines.push(`${address} ${name}`)
  const file = path.join(tempRoot(), `helm-ecr-e2e-hosts-${randomUUID()}`)
  writeFileSync(file, lines.join('\n') + '\n')
  return (command, args) => {
    const wrapped = inner ? inner(command, args) : { command, args }
    return {
      command: 'unshare',
      args: [
        '--mount',
        '--propagation',
        'private',
        '--',
        // bash, not sh: dash drops variables such as INPUT_HELM-VERSION from the environment.
        'bash',
        '-c',
        'mount --bind "$0" /etc/hosts && exec "$@"',
        file,
        wrapped.command,
        ...wrapped.args
      ]
    }
  }
}
