// Starts the in-memory OCI registry of src/dry-run/local-registry.ts (plain HTTP on 127.0.0.1, no auth,
// no Docker) for a workflow step, on any runner that has Node: Linux, macOS and Windows.
//
//   npx tsx scripts/local-registry.ts [--host-file FILE]
//       serves in the foreground until killed (SIGINT/SIGTERM stop it cleanly)
//   npx tsx scripts/local-registry.ts --background [--host-file FILE]
//       starts a detached copy of itself, waits until it serves, and exits; the copy stays up
//       until it is killed (or the runner ends the job)
//
// Either way it prints `127.0.0.1:PORT` and, when GITHUB_OUTPUT is set, writes the step outputs
// `host` and `pid` (the serving process). --host-file also receives the host.
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface LocalRegistry {
  host: string
  stop(): Promise<void>
}

type StartLocalRegistry = () => Promise<LocalRegistry>

const SCRIPT = fileURLToPath(import.meta.url)
const MODULE = path.join(path.dirname(SCRIPT), '..', 'src', 'dry-run', 'local-registry.ts')
const READY_TIMEOUT_MS = 30_000

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

function report(host: string, pid: number, hostFile: string | undefined): void {
  if (hostFile) writeFileSync(hostFile, `${host}\n`)
  if (process.env.GITHUB_OUTPUT) {
    appendFileSync(process.env.GITHUB_OUTPUT, `host=${host}\npid=${pid}\n`)
  }
  console.log(host)
}

async function serve(hostFile: string | undefined): Promise<void> {
  // Loaded at run time (tsx compiles the .ts source), so this script needs no build step; a file
  // URL, because import() of a bare Windows path (D:\...) fails.
  const { startLocalRegistry } = (await import(pathToFileURL(MODULE).href)) as {
    startLocalRegistry: StartLocalRegistry
  }
  const registry = await startLocalRegistry()
  const stop = (): void => {
    registry.stop().finally(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  report(registry.host, process.pid, hostFile)
}

async function background(hostFile: string | undefined): Promise<void> {
  const file = hostFile ?? path.join(os.tmpdir(), `local-registry-${process.pid}.host`)
  const child = spawn(process.execPath, [...process.execArgv, SCRIPT, '--host-file', file], {
    detached: true,
    stdio: 'ignore',
    windowsHide: true,
    env: { ...process.env, GITHUB_OUTPUT: '' }
  })
  let exited: number | null = null
  child.on('exit', code => {
    exited = code ?? 1
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!(existsSync(file) && readFileSync(file, 'utf8').trim())) {
    if (exited !== null) throw new Error(`the registry exited with code ${exited} before serving`)
    if (Date.now() > deadline) {
      child.kill()
      throw new Error(`the registry did not start within ${READY_TIMEOUT_MS / 1000} s`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  child.unref()
  report(readFileSync(file, 'utf8').trim(), child.pid ?? 0, hostFile)
}

const args = process.argv.slice(2)
const run = args.includes('--background') ? background : serve
run(option(args, '--host-file')).catch((error: unknown) => {
  console.error(`local-registry: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
