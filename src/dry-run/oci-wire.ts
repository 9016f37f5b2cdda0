import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { oneLine } from '../errors.js'

/*
 * The HTTP plumbing of an OCI distribution registry, shared by the dry run's in-process registry
 * and (through it) the unit tests' fake registry and the test world's fronts: bodies with a size
 * limit, answers with the distribution API header, errors in the spec's JSON shape, and a server
 * on a free loopback port.
 */

/**
 * The largest request body taken (a blob upload, or one chunk of it): Helm itself refuses a chart
 * that decompresses to more than 100 MiB, so a bigger compressed upload is never a chart.
 */
export const MAX_BODY_BYTES = 100 * 1024 * 1024

export class BodyTooLarge extends Error {}

/** The request body, refused (413) once it passes `limit` bytes, whatever Content-Length says. */
export function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new BodyTooLarge(`request body over ${limit} bytes`)
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(tooLarge())
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume() // drain without keeping it
        reject(tooLarge())
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Answers with the distribution API header; a HEAD request gets the headers only. */
export function send(
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
  body?: Buffer | string
): void {
  const data = body === undefined ? undefined : Buffer.from(body)
  res.writeHead(status, {
    'Docker-Distribution-API-Version': 'registry/2.0',
    'Content-Length': data?.length ?? 0,
    ...headers
  })
  res.end(res.req.method === 'HEAD' ? undefined : data)
}

/** An error in the distribution spec's shape: `{"errors":[{"code","message"}]}`. */
export function fail(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {}
): void {
  const body = JSON.stringify({ errors: [{ code, message: oneLine(message) }] })
  send(res, status, { 'Content-Type': 'application/json', ...headers }, body)
}

export interface LoopbackServer {
  /** `127.0.0.1:PORT` */
  host: string
  stop(): Promise<void>
}

/** Serves `handler` on 127.0.0.1 on a free port; stop() closes it and every open connection. */
export async function serveOnLoopback(handler: http.RequestListener): Promise<LoopbackServer> {
  const server = http.createServer(handler)
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close(error => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
  }
}
