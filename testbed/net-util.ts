import http from 'node:http'
import https from 'node:https'
import net from 'node:net'

/** A currently free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface SimpleResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** One HTTP(S) request with node's own client (lets us pass a CA), bounded by `timeoutMs`. */
export function request(
  url: string,
  opts: {
    method?: string
    headers?: Record<string, string>
    body?: Buffer | string
    ca?: Buffer | string
    timeoutMs?: number
  } = {}
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const lib = u.protocol === 'https:' ? https : http
    const req = lib.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ca: opts.ca,
        agent: false,
        timeout: opts.timeoutMs ?? 10_000
      },
      res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks)
          })
        )
        res.on('error', reject)
      }
    )
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${url}`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Polls `probe` until it returns true, at most `attempts` times, `intervalMs` apart. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  attempts = 100,
  intervalMs = 100
): Promise<void> {
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      if (await probe()) return
    } catch (error) {
      last = error
    }
    await new Promise(r => setTimeout(r, intervalMs))
  }
  throw new Error(`${what} did not become ready${last ? `: ${String(last)}` : ''}`)
}

/** Closes a server and every connection it still has (node ≥18.2). */
export function closeServer(server: http.Server | net.Server): Promise<void> {
  return new Promise(resolve => {
    if ('closeAllConnections' in server) server.closeAllConnections()
    server.close(() => resolve())
  })
}
