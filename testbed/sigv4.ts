import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'

/** A SHA-256 "HashConstructor" for @smithy/signature-v4 on node:crypto (HMAC when keyed). */
export class NodeSha256 {
  private readonly hash: Hash | Hmac
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) {
      this.hash = createHash('sha256')
    } else {
      const key =
        typeof secret === 'string'
          ? Buffer.from(secret)
          : ArrayBuffer.isView(secret)
            ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
            : Buffer.from(secret)
      this.hash = createHmac('sha256', key)
    }
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.hash.update(data, 'utf8')
    else if (ArrayBuffer.isView(data))
      this.hash.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    else this.hash.update(Buffer.from(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
}

export interface TestCredentials {
  accessKeyId: string
  secretAccessKey: string
}

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | {
      ok: false
      code:
        | 'UnrecognizedClientException'
        | 'InvalidSignatureException'
        | 'MissingAuthenticationTokenException'
      message: string
    }

const AUTH_RE =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/

export interface IncomingSignedRequest {
  method: string
  /** Raw request target: path and optional query string. */
  url: string
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/**
 * Verifies the SigV4 Authorization header of `req` against `credentials` by re-signing the same
 * request (same signed headers, the request's own X-Amz-Date) with @smithy/signature-v4.
 */
export async function verifySigV4(
  req: IncomingSignedRequest,
  credentials: TestCredentials,
  expectedService = 'ecr'
): Promise<SigV4Result> {
  const header = req.headers['authorization']
  const authorization = Array.isArray(header) ? header[0] : header
  if (!authorization) {
    return {
      ok: false,
      code: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token'
    }
  }
  const m = AUTH_RE.exec(authorization)
  if (!m) {
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.`
    }
  }
  const [, accessKeyId, shortDate, region, service, signedHeaderList, signature] = m
  if (accessKeyId !== credentials.accessKeyId) {
    return {
      ok: false,
      code: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.'
    }
  }
  const amzDate = firstHeader(req.headers['x-amz-date'])
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== shortDate) {
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message: 'Missing or malformed X-Amz-Date header, or it does not match the credential scope.'
    }
  }
  if (service !== expectedService) {
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${expectedService}'.`
    }
  }
  const signedHeaders = signedHeaderList.split(';')
  const headers: Record<string, string> = {}
  for (const name of signedHeaders) {
    const value = req.headers[name]
    if (value === undefined) {
      return {
        ok: false,
        code: 'InvalidSignatureException',
        message: `Signed header '${name}' is missing from the request.`
      }
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const [pathPart, queryString = ''] = req.url.split(/\?(.*)/s, 2)
  const query: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(queryString)) {
    const prev = query[k]
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  const signer = new SignatureV4({
    service,
    region,
    credentials,
    sha256: NodeSha256,
    applyChecksum: signedHeaders.includes('x-amz-content-sha256')
  })
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`
  )
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers['host'] ?? '127.0.0.1',
      path: pathPart || '/',
      query,
      headers,
      body: new Uint8Array(req.body)
    },
    {
      signingDate,
      signingRegion: region,
      signingService: service,
      signableHeaders: new Set(signedHeaders)
    }
  )
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization']))?.[1]
  const expectedList = /SignedHeaders=([^,\s]+)/.exec(String(signed.headers['authorization']))?.[1]
  if (
    !expected ||
    expectedList !== signedHeaderList ||
    !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  ) {
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
    }
  }
  return { ok: true, accessKeyId, region, service }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
