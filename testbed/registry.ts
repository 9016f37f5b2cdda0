import { randomBytes } from 'node:crypto'
import { access, constants, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import type { TestCerts } from './certs.js'
import { freePort, request, waitFor } from './net-util.js'
import { makeTempDir } from './paths.js'
import { killChild, LogTail, spawnServer } from './processes.js'

export const REGISTRY_BINARY = process.env.DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry'

export interface StartRegistryOptions {
  /** Serve TLS with `certs` (required when true). */
  tls?: boolean
  certs?: TestCerts
  username?: string
  password?: string
}

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string
  /** `http(s)://127.0.0.1:PORT` */
  url: string
  username: string
  password: string
  /** Temp dir with config.yml, htpasswd and storage/. */
  dataDir: string
  tls: boolean
  /** The registry's own log (warn level), for diagnostics. */
  log: () => string
  /** Basic Authorization header value for the backend credentials. */
  authorization: string
  stop: () => Promise<void>
}

export async function assertRegistryBinary(): Promise<void> {
  try {
    await access(REGISTRY_BINARY, constants.X_OK)
  } catch {
    throw new Error(
      `${REGISTRY_BINARY} not found: run \`node scripts/ensure-tools.mjs\` (or \`apt-get install -y docker-registry\`)`
    )
  }
}

/**
 * Starts a real CNCF distribution registry (Debian's docker-registry 2.8) on 127.0.0.1 with
 * htpasswd auth and filesystem storage in a temp dir. Resolves once /v2/ answers.
 */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<Registry> {
  await assertRegistryBinary()
  const tls = opts.tls ?? false
  if (tls && !opts.certs) throw new Error('startRegistry({ tls: true }) needs certs')
  const username = opts.username ?? 'e2e'
  const password = opts.password ?? randomBytes(18).toString('base64url')
  const dataDir = await makeTempDir('registry')
  const htpasswd = path.join(dataDir, 'htpasswd')
  await writeFile(htpasswd, `${username}:${bcrypt.hashSync(password, 5)}\n`, { mode: 0o600 })

  const ca = tls && opts.certs ? await readFile(opts.certs.caFile) : undefined
  let lastError: unknown
  // A free port can be taken between probing and binding: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const host = `127.0.0.1:${port}`
    const configFile = path.join(dataDir, 'config.yml')
    await writeFile(configFile, registryConfig({ host, dataDir, htpasswd, tls, certs: opts.certs }))
    const log = new LogTail()
    const child = spawnServer(REGISTRY_BINARY, ['serve', configFile], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dataDir }
    })
    child.stdout.on('data', (c: Buffer) => log.push(c))
    child.stderr.on('data', (c: Buffer) => log.push(c))
    const url = `${tls ? 'https' : 'http'}://${host}`
    try {
      await waitFor(
        `docker-registry on ${host}`,
        async () => {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${log}`)
          const res = await request(`${url}/v2/`, { ca, timeoutMs: 2000 })
          return res.status === 401 || res.status === 200
        },
        100,
        100
      )
    } catch (error) {
      lastError = error
      await killChild(child)
      continue
    }
    return {
      host,
      url,
      username,
      password,
      dataDir,
      tls,
      log: () => log.toString(),
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      stop: async () => {
        await killChild(child)
        await rm(dataDir, { recursive: true, force: true })
      }
    }
  }
  await rm(dataDir, { recursive: true, force: true })
  throw lastError instanceof Error ? lastError : new Error(String(lastError))
}

function registryConfig(o: {
  host: string
  dataDir: string
  htpasswd: string
  tls: boolean
  certs?: TestCerts
}): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(path.join(o.dataDir, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${o.host}`,
    '  relativeurls: true',
    `  secret: ${randomBytes(16).toString('hex')}`,
    // No http.debug section: the debug (pprof/prometheus) listener stays off.
    'auth:',
    '  htpasswd:',
    '    realm: e2e-registry',
    `    path: ${JSON.stringify(o.htpasswd)}`
  ]
  if (o.tls && o.certs) {
    lines.splice(
      lines.indexOf('auth:'),
      0,
      '  tls:',
      `    certificate: ${JSON.stringify(o.certs.certFile)}`,
      `    key: ${JSON.stringify(o.certs.keyFile)}`
    )
  }
  return lines.join('\n') + '\n'
}
