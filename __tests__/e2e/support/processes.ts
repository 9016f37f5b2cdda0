import type { ChildProcess } from 'node:child_process'

const live = new Set<ChildProcess>()
let hooked = false

/** Tracks a child so it is killed when this process exits, even after a failed test. */
export function trackChild(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL')
        } catch {
          // already gone
        }
      }
    })
  }
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function killChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
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
