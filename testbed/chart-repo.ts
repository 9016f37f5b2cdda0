/**
 * A classic Helm chart repository (an index.yaml and packaged charts) over TLS with the test
 * certificate, as `helm repo add` and `helm dependency build` fetch them. Two paths: `/public`
 * (anyone) and `/private` (Basic auth with `credentials`). Charts are packaged by a real Helm.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import https from 'node:https'
import path from 'node:path'
import { promisify } from 'node:util'
import { stringify } from 'yaml'
import { loadCerts, type TestCerts } from './certs.js'
import { HELM_VERSIONS, helmBinary } from './helm-binaries.js'
import { closeServer } from './net-util.js'
import { makeTempDir } from './paths.js'
import { makeChart } from './stack.js'

const execFileAsync = promisify(execFile)

export interface ChartRepoRequest {
  method: string
  path: string
  status: number
  /** The user name of a Basic authorization header, if any. */
  user?: string
}

export interface ChartRepo {
  /** `https://127.0.0.1:PORT` (no trailing slash). */
  url: string
  /** `${url}/public`: no credentials needed. */
  publicUrl: string
  /** `${url}/private`: Basic auth with `credentials`. */
  privateUrl: string
  credentials: { username: string; password: string }
  requests: ChartRepoRequest[]
  stop(): Promise<void>
}

interface Served {
  index: string
  files: Map<string, Buffer>
}

/** Packages `charts` (name@version) with a real Helm and writes an index naming them. */
async function makeRepository(
  base: string,
  charts: { name: string; version: string }[]
): Promise<Served> {
  const dir = await makeTempDir('chart-repo')
  const helm = await helmBinary(HELM_VERSIONS.v3_18)
  const files = new Map<string, Buffer>()
  const entries: Record<string, unknown[]> = {}
  for (const chart of charts) {
    const src = await makeChart(path.join(dir, 'src', `${chart.name}-${chart.version}`), chart)
    await mkdir(path.join(dir, 'out'), { recursive: true })
    await execFileAsync(helm, ['package', src, '--destination', path.join(dir, 'out')], {
      env: { PATH: process.env.PATH ?? '', HOME: dir }
    })
    const file = `${chart.name}-${chart.version}.tgz`
    const data = await readFile(path.join(dir, 'out', file))
    files.set(file, data)
    ;(entries[chart.name] ??= []).push({
      apiVersion: 'v2',
      name: chart.name,
      version: chart.version,
      type: 'application',
      description: `Test chart ${chart.name}`,
      digest: createHash('sha256').update(data).digest('hex'),
      created: '2024-01-01T00:00:00Z',
      urls: [`${base}/${file}`]
    })
  }
  return {
    index: stringify({ apiVersion: 'v1', entries, generated: '2024-01-01T00:00:00Z' }),
    files
  }
}

export async function startChartRepo(opts: {
  certs: TestCerts
  /** Charts served on both paths (name@version). */
  charts: { name: string; version: string }[]
  credentials?: { username: string; password: string }
}): Promise<ChartRepo> {
  const credentials = opts.credentials ?? { username: 'repo-user', password: 'chart-repo-secret' }
  const { cert, key } = await loadCerts(opts.certs)
  const requests: ChartRepoRequest[] = []
  let url = ''
  const served: Record<string, Served> = {}
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
  const server = https.createServer({ cert, key }, (req, res) => {
    const [, area, file] = /^\/(public|private)\/([^/?]+)/.exec(req.url ?? '') ?? []
    const header = req.headers.authorization ?? ''
    const user = /^Basic /.test(header)
      ? Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0]
      : undefined
    const answer = (status: number, body: string | Buffer = '') => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', status, user })
      if (status === 401) res.setHeader('www-authenticate', 'Basic realm="charts"')
      res.writeHead(status)
      res.end(body)
    }
    if (!area || !served[area]) return answer(404, 'not found')
    if (area === 'private' && header !== expected) return answer(401, 'unauthorized')
    if (file === 'index.yaml') return answer(200, served[area].index)
    const data = served[area].files.get(file)
    return data ? answer(200, data) : answer(404, 'not found')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('chart repo has no port')
  url = `https://127.0.0.1:${address.port}`
  served.public = await makeRepository(`${url}/public`, opts.charts)
  served.private = await makeRepository(`${url}/private`, opts.charts)
  return {
    url,
    publicUrl: `${url}/public`,
    privateUrl: `${url}/private`,
    credentials,
    requests,
    stop: () => closeServer(server)
  }
}
