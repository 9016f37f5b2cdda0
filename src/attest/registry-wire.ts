import type { HttpClientResponse } from '@actions/http-client'
import { oneLine } from '../errors.js'

/*
 * What the attestations' OCI client (oci-client.ts) takes from a registry's answers, checked:
 * digests, auth challenges and their token realm, the next page's link, bodies of bounded size.
 */

/** Every body read here is JSON (manifest, index page, bundle): distribution's manifest limit. */
export const MAX_BODY = 4 * 1024 * 1024

/** A value from outside, fit for one log line: collapsed whitespace, at most 100 characters. */
export function shown(value: unknown): string {
  const text = oneLine(String(value))
  return text.length > 100 ? `${text.slice(0, 97)}...` : text
}

export interface Challenge {
  scheme: 'basic' | 'bearer'
  realm?: string
  service?: string
  scope?: string
}

/** Parses a WWW-Authenticate header (RFC 7235: scheme, then comma-separated key="value"). */
export function parseChallenge(header: string): Challenge {
  const [scheme = '', ...rest] = header.trim().split(/\s+/)
  const lower = scheme.toLowerCase()
  if (lower !== 'basic' && lower !== 'bearer')
    throw new Error(`unknown auth challenge ${shown(scheme)}`)
  const params: Record<string, string> = {}
  for (const m of rest.join(' ').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    params[m[1].toLowerCase()] = m[2] ?? m[3]
  }
  return { scheme: lower, realm: params.realm, service: params.service, scope: params.scope }
}

/**
 * The token endpoint of a Bearer challenge. Basic credentials go there (as docker sends them),
 * so never in clear text: HTTPS, unless the registry itself is plain HTTP (loopback).
 */
export function tokenRealm(realm: string, registryBase: string): URL {
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    throw new Error(`the token realm ${shown(realm)} is not a URL`)
  }
  const plain = new URL(registryBase).protocol === 'http:' && url.protocol === 'http:'
  if (url.protocol !== 'https:' && !plain)
    throw new Error(`the token realm ${shown(realm)} is not over HTTPS`)
  return url
}

/** The `rel="next"` target of a Link header, resolved against `base`. */
export function nextLink(header: string | undefined, base: string): string | undefined {
  const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(header ?? '')
  return m ? new URL(m[1], base).href : undefined
}

/** The whole response body as bytes; reading stops, and fails, past MAX_BODY. */
export async function bodyOf(res: HttpClientResponse, what: string): Promise<Buffer> {
  const tooBig = (): Error => {
    res.message.destroy()
    return new Error(`${shown(what)}: the answer is larger than ${MAX_BODY / 1024 / 1024} MiB`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.message as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw tooBig()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}
