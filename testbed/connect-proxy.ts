/**
 * An HTTP CONNECT proxy for tests: the only way out of a network where direct connections are
 * refused (see hosts.ts). It tunnels CONNECT requests for the names in `routes` to their
 * 127.0.0.1 ports (so production-like names reach the local stack), refuses every other host
 * with 403, and records every host:port it was asked for.
 */
import http from 'node:http'
import net from 'node:net'
import { closeServer } from './net-util.js'

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT` (HTTPS_PROXY / HTTP_PROXY). */
  url: string
  /** Every CONNECT target (`host:port`), in order, tunnelled or refused. */
  readonly requests: string[]
  /** The distinct host names asked for (without ports). */
  hosts(): string[]
  /** Proxy-Authorization headers received, decoded (`user:password`), to check credentials pass. */
  readonly credentials: string[]
  stop(): Promise<void>
}

export interface StartConnectProxyOptions {
  /** Host name (lower case, any port) → port on 127.0.0.1. */
  routes: Record<string, number>
}

export async function startConnectProxy(opts: StartConnectProxyOptions): Promise<ConnectProxy> {
  const requests: string[] = []
  const credentials: string[] = []
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket): void => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
  }
  const server = http.createServer((_req, res) => {
    // Only tunnels: a plain proxied GET (absolute URI) is refused like an unknown host.
    res.writeHead(403, { 'content-type': 'text/plain' }).end('CONNECT only\n')
  })
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    track(client)
    const target = req.url ?? ''
    requests.push(target)
    const auth = req.headers['proxy-authorization']
    if (auth?.startsWith('Basic ')) {
      credentials.push(Buffer.from(auth.slice(6), 'base64').toString('utf8'))
    }
    const host = target
      .replace(/:\d+$/, '')
      .replace(/^\[|\]$/g, '')
      .toLowerCase()
    const port = opts.routes[host]
    if (port === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    track(upstream)
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'))
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hosts: () => [...new Set(requests.map(r => r.replace(/:\d+$/, '')))].sort(),
    credentials,
    stop: async () => {
      for (const s of sockets) s.destroy()
      await closeServer(server)
    }
  }
}
