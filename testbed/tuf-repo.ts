/**
 * TUF repositories for the Sigstore world: the fake instance's trusted root published the way
 * tuf-repo-cdn.sigstore.dev and tuf-repo.github.com publish theirs (root, timestamp, snapshot,
 * targets metadata signed by @tufjs/repo-mock's key; targets/trusted_root.json), and a TUF cache
 * seeded with that repository's root, as @sigstore/tuf keeps it under XDG_DATA_HOME.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { initializeTUFRepo, tufHandlers } from '@tufjs/repo-mock'

type Bytes = { rawBytes: Buffer }
type Validity = { validFor: { start: Date } }

/** The world's trust material, in the object form toTrustMaterial() takes. */
export interface TrustedRootObject {
  certificateAuthorities: (Record<string, unknown> &
    Validity & { certChain: { certificates: Bytes[] } })[]
  tlogs: (Record<string, unknown> & {
    logId: { keyId: Buffer }
    publicKey: Bytes & { keyDetails: number } & Validity
  })[]
  ctlogs: (Record<string, unknown> & {
    logId: { keyId: Buffer }
    publicKey: Bytes & { keyDetails: number } & Validity
  })[]
  timestampAuthorities: (Record<string, unknown> &
    Validity & { certChain: { certificates: Bytes[] } })[]
}

const b64 = (data: Buffer): string => Buffer.from(data).toString('base64')
const validity = (v: { start: Date }) => ({ start: v.start.toISOString() })
const KEY_DETAILS: Record<number, string> = { 5: 'PKIX_ECDSA_P256_SHA_256' }

/** The trusted root in its published JSON form (protobuf JSON: base64 bytes, enum names). */
export function trustedRootJson(root: TrustedRootObject): string {
  const log = (l: TrustedRootObject['tlogs'][number]) => ({
    baseUrl: l.baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: b64(l.publicKey.rawBytes),
      keyDetails: KEY_DETAILS[l.publicKey.keyDetails],
      validFor: validity(l.publicKey.validFor)
    },
    logId: { keyId: b64(l.logId.keyId) }
  })
  const authority = (a: TrustedRootObject['certificateAuthorities'][number]) => ({
    subject: a.subject,
    uri: a.uri,
    certChain: { certificates: a.certChain.certificates.map(c => ({ rawBytes: b64(c.rawBytes) })) },
    validFor: validity(a.validFor)
  })
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: root.tlogs.map(log),
    certificateAuthorities: root.certificateAuthorities.map(authority),
    ctlogs: root.ctlogs.map(log),
    timestampAuthorities: root.timestampAuthorities.map(authority)
  })
}

export interface TufRepo {
  /** GET handlers by path (metadata at the root, targets under /targets/). */
  get(
    pathOnly: string
  ): { statusCode: number; response: string | Buffer; contentType?: string } | undefined
  /** Seeds `<dataHome>/sigstore-js/<host>/root.json` as @sigstore/tuf's cache for `mirror`. */
  seed(dataHome: string, mirror: string): Promise<void>
}

export function tufRepo(root: TrustedRootObject): TufRepo {
  const repo = initializeTUFRepo([{ name: 'trusted_root.json', content: trustedRootJson(root) }])
  const handlers = new Map(
    tufHandlers(repo, { metadataPathPrefix: '', targetPathPrefix: '/targets' }).map(h => [
      h.path,
      h.fn
    ])
  )
  return {
    get: pathOnly => handlers.get(pathOnly)?.(),
    seed: async (dataHome, mirror) => {
      const url = new URL(mirror)
      const dir = path.join(dataHome, 'sigstore-js', encodeURIComponent(url.host))
      await mkdir(path.join(dir, 'targets'), { recursive: true })
      await writeFile(path.join(dir, 'root.json'), JSON.stringify(repo.rootMeta.toJSON()))
    }
  }
}
