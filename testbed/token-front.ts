/**
 * A registry that speaks Bearer tokens, as GHCR, Docker Hub and Harbor do: an HTTP front on
 * 127.0.0.1 before the distribution registry. /v2/ requests without a valid token get a Bearer
 * challenge whose realm (/token here) trades the registry's Basic credentials for a token; with
 * one, they go on to the registry with its Basic credentials. With `tamperBundles`, Sigstore
 * bundles served as blobs have their in-toto subject rewritten (a registry that stores, or a
 * path that returns, something else than what was pushed).
 */
import { serveOnLoopback } from '../src/dry-run/oci-wire.js'
import { recorded, withBearerToken, type RequestLog } from './registry-auth.js'
import { forwardTo } from './registry-forward.js'
import type { Registry } from './registry.js'

export interface TokenFront {
  /** `127.0.0.1:PORT` */
  host: string
  /** Requests answered, in order (path and status; /token included). */
  requests: RequestLog
  tamperBundles: boolean
  stop(): Promise<void>
}

/** A bundle with its statement's subject digests replaced by zeros; other bytes unchanged. */
function tampered(body: Buffer): Buffer {
  try {
    const bundle = JSON.parse(body.toString()) as { dsseEnvelope?: { payload: string } }
    if (!bundle.dsseEnvelope) return body
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      subject: { digest: { sha256: string } }[]
    }
    for (const s of statement.subject) s.digest.sha256 = '0'.repeat(64)
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64')
    return Buffer.from(JSON.stringify(bundle))
  } catch {
    return body
  }
}

export async function startTokenFront(registry: Registry): Promise<TokenFront> {
  const requests: RequestLog = []
  const state = { tamperBundles: false }
  const forward = withBearerToken(registry, (req, res) => {
    const blobGet = req.method === 'GET' && (req.url ?? '').includes('/blobs/')
    forwardTo(registry, req, res, state.tamperBundles && blobGet ? { rewrite: tampered } : {})
  })
  const server = await serveOnLoopback(recorded(requests, forward))
  return {
    ...server,
    requests,
    get tamperBundles() {
      return state.tamperBundles
    },
    set tamperBundles(on) {
      state.tamperBundles = on
    }
  }
}
