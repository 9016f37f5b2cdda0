/**
 * An in-memory OCI distribution registry for unit tests: the dry run's own registry
 * (src/dry-run/local-registry.ts) behind Basic auth, or a Bearer token endpoint (`bearer`), with
 * (unless `referrers: false`) the OCI 1.1 referrers API and the OCI-Subject header, as ECR has.
 * Without it, /referrers/ answers 404 like distribution 2.8.
 */
import { randomUUID } from 'node:crypto'
import {
  emptyStore,
  registryHandler,
  storeManifest,
  type StoredManifest
} from '../src/dry-run/local-registry.js'
import { serveOnLoopback } from '../src/dry-run/oci-wire.js'
import {
  recorded,
  withBasicAuth,
  withBearerToken,
  type RequestLog
} from '../testbed/registry-auth.js'

export interface FakeRegistry {
  /** 127.0.0.1:PORT (the referrers client talks plain HTTP to 127.0.0.1). */
  host: string
  username: string
  password: string
  /** Method and path of every request, in order. */
  requests: RequestLog
  /** `repo@digest` -> manifest */
  manifests: Map<string, StoredManifest>
  /** `repo@tag` -> digest */
  tags: Map<string, string>
  /** Stores a manifest (as a push would) and returns its digest. */
  putManifest(repo: string, tag: string, body: object, mediaType?: string): string
  stop(): Promise<void>
}

export async function startFakeRegistry(
  opts: {
    referrers?: boolean
    /** Answer with a Bearer challenge whose realm (/token here) trades Basic for a token. */
    bearer?: boolean
    /** Referrers per page of the referrers API (Link: rel="next" to the rest). */
    pageSize?: number
  } = {}
): Promise<FakeRegistry> {
  const credentials = { username: 'AWS', password: `pw-${randomUUID()}` }
  const store = emptyStore()
  const requests: RequestLog = []
  const referrers = (opts.referrers ?? true) ? { pageSize: opts.pageSize } : undefined
  const registry = registryHandler({ store, referrers })
  const auth = opts.bearer ? withBearerToken : withBasicAuth
  const server = await serveOnLoopback(recorded(requests, auth(credentials, registry)))
  return {
    ...server,
    ...credentials,
    requests,
    manifests: store.manifests,
    tags: store.tags,
    putManifest: (repo, tag, body, mediaType = 'application/vnd.oci.image.manifest.v1+json') =>
      storeManifest(store, repo, tag, Buffer.from(JSON.stringify(body)), mediaType)
  }
}

/** A chart manifest in `repo` under `tag`, as helm push leaves it; returns its digest. */
export function pushChart(registry: FakeRegistry, repo: string, tag: string): string {
  return registry.putManifest(repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.cncf.helm.config.v1+json',
      digest: `sha256:${'c'.repeat(64)}`,
      size: 2
    },
    layers: []
  })
}
