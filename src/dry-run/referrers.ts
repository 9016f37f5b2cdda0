/*
 * The OCI 1.1 referrers API, as a registry answers it: a manifest with a `subject` is listed as a
 * referrer of that digest, in an image index. The dry run's registry does not need it; the unit
 * tests' fake registry and the test world's ECR emulator serve it through these two functions.
 */

export const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json'
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json'

export interface Referrer {
  /** The digest this manifest refers to. */
  subject: string
  descriptor: {
    mediaType: string
    digest: string
    size: number
    artifactType?: string
    annotations?: Record<string, string>
  }
}

/** The manifest as a referrer (its subject and its descriptor), or undefined without a subject. */
export function asReferrer(
  body: Buffer,
  digest: string,
  mediaType: string | undefined
): Referrer | undefined {
  let manifest: {
    subject?: { digest?: string }
    artifactType?: string
    config?: { mediaType?: string }
    annotations?: Record<string, string>
  }
  try {
    manifest = JSON.parse(body.toString()) as typeof manifest
  } catch {
    return undefined
  }
  const subject = manifest?.subject?.digest
  if (typeof subject !== 'string') return undefined
  return {
    subject,
    descriptor: {
      mediaType: mediaType || MANIFEST_TYPE,
      digest,
      size: body.length,
      artifactType: manifest.artifactType ?? manifest.config?.mediaType,
      ...(manifest.annotations ? { annotations: manifest.annotations } : {})
    }
  }
}

/**
 * One page of the referrers list (`?artifactType=` filters, and says so in OCI-Filters-Applied;
 * `pageSize` pages it with a Link to the next page, as `?page=N`).
 */
export function referrersPage(
  url: URL,
  all: Referrer['descriptor'][],
  pageSize = all.length
): { headers: Record<string, string>; body: string } {
  const artifactType = url.searchParams.get('artifactType')
  const found = artifactType ? all.filter(d => d.artifactType === artifactType) : all
  const from = Number(url.searchParams.get('page') ?? 0)
  const headers: Record<string, string> = { 'Content-Type': INDEX_TYPE }
  if (artifactType) headers['OCI-Filters-Applied'] = 'artifactType'
  if (from + pageSize < found.length) {
    const next = new URL(url)
    next.searchParams.set('page', String(from + pageSize))
    headers.Link = `<${next.pathname}${next.search}>; rel="next"`
  }
  const manifests = found.slice(from, from + pageSize)
  return { headers, body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests }) }
}
