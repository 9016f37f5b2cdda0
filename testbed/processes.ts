import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

const live = new Set<ChildProcess>()
const groups = new WeakSet<ChildProcess>()
let hooked = false

function killHard(child: ChildProcess): void {
  try {
    if (groups.has(child) && child.pid) process.kill(-child.pid, 'SIGKILL')
    else child.kill('SIGKILL')
  } catch {
    // already gone
  }
}

/** Tracks a child so it is killed when this process exits, even after a failed test. */
export function trackChild(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const c of live) killHard(c)
    })
  }
}

// A long-running server is started under a tiny sh that also watches our end of its stdin pipe:
// when this process dies in any way (even SIGKILL), the pipe closes and the server is terminated,
// so no registry outlives a crashed test worker.
const WATCHDOG = [
  'exec 3<&0 0</dev/null',
  '"$@" 3<&- &',
  'pid=$!',
  '( cat <&3 >/dev/null 2>&1; kill -TERM "$pid" 2>/dev/null ) &',
  'exec 3<&-',
  'wait "$pid"'
].join('\n')

/**
 * Spawns a long-running server that dies with this process. stdout/stderr are pipes; the child
 * leads its own process group (so killChild can take the whole tree down).
 */
export function spawnServer(
  command: string,
  args: string[],
  opts: Omit<SpawnOptions, 'stdio' | 'detached'> = {}
): ChildProcess & {
  stdout: NonNullable<ChildProcess['stdout']>
  stderr: NonNullable<ChildProcess['stderr']>
} {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', command, ...args], {
    ...opts,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true
  })
  groups.add(child)
  child.stdin?.on('error', () => undefined)
  trackChild(child)
  return child as ChildProcess & {
    stdout: NonNullable<ChildProcess['stdout']>
    stderr: NonNullable<ChildProcess['stderr']>
  }
}

/**
 * Stops a child: closes its stdin (a spawnServer child then terminates its server), sends SIGTERM,
 * then SIGKILL (to the whole group for spawnServer children) after `graceMs`; resolves on exit.
 */
export async function killChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    child.stdin?.destroy()
    return
  }
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  if (groups.has(child)) {
    child.stdin?.end()
  } else {
    child.kill('SIGTERM')
  }
  const timer = setTimeout(() => killHard(child), graceMs)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

/** Keeps the last `max` characters written, for diagnostics of a server's log. */
export class LogTail {
  private text = ''
  constructor(private readonly max = 20_000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.max)
  }
  toString(): string {
    return this.text
  }
}
