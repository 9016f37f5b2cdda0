import * as core from '@actions/core'
import { checkBypass, getProxyUrl } from '@actions/http-client/lib/proxy'
import { UserError } from '../errors.js'

/*
 * One set of proxy rules for every connection the action makes. The Helm download goes through
 * @actions/http-client (tool-cache), so its rules are the rules: https_proxy/HTTPS_PROXY for
 * https URLs, http_proxy/HTTP_PROXY for http URLs (lower case first), no_proxy/NO_PROXY entries
 * matching the host, a parent domain or host:port ("*" for all), and never for localhost or
 * 127.x. The AWS SDK asks the same functions, and unifyProxyEnvironment makes Helm read the same
 * values.
 */

/** The proxy variables, lower case first (the order @actions/http-client reads them in). */
export const PROXY_VARIABLES = [
  ['https_proxy', 'HTTPS_PROXY'],
  ['http_proxy', 'HTTP_PROXY'],
  ['no_proxy', 'NO_PROXY']
] as const

/** The proxy a connection to `url` goes through, or undefined for a direct connection. */
export function proxyFor(url: string | URL): URL | undefined {
  const target = typeof url === 'string' ? new URL(url) : url
  const proxy = getProxyUrl(target)
  return proxy?.hostname ? proxy : undefined
}

/** True when NO_PROXY (or a loopback host) sends `url` directly. */
export function bypassesProxy(url: string | URL): boolean {
  return checkBypass(typeof url === 'string' ? new URL(url) : url)
}

/** The proxy as a log line may show it: scheme, host and port, never credentials. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`
}

/** The proxy configured for `protocol` (lower-case spelling first), whatever NO_PROXY says. */
export function configuredProxy(
  protocol: 'https:' | 'http:',
  env: NodeJS.ProcessEnv = process.env
): URL | undefined {
  const value =
    protocol === 'https:' ? env.https_proxy || env.HTTPS_PROXY : env.http_proxy || env.HTTP_PROXY
  const url = value ? URL.parse(value) : null
  return url?.hostname ? url : undefined
}

/**
 * Makes every reader of the proxy variables agree, and masks their credentials. Go (Helm) reads
 * HTTPS_PROXY before https_proxy and NO_PROXY before no_proxy, and takes "proxy:3128" as
 * http://proxy:3128; @actions/http-client reads the lower-case spelling first and ignores a
 * value without a scheme. So both spellings get the value the action would pick, with http://
 * added where the scheme is missing, in `env` (process.env: Helm inherits it).
 */
export function unifyProxyEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const [lower, upper] of PROXY_VARIABLES) {
    let value = env[lower] || env[upper]
    if (!value) continue
    if (lower !== 'no_proxy') {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) value = `http://${value}`
      maskCredentials(value)
      const scheme = URL.parse(value)?.protocol
      if (scheme !== 'http:' && scheme !== 'https:') {
        throw new UserError(
          `${upper} is ${scheme ? `a ${scheme}// proxy` : 'not a URL'}, which the Helm download and the AWS SDK cannot use: set it to an HTTP proxy such as http://proxy.example.com:3128.`
        )
      }
    }
    env[lower] = value
    env[upper] = value
  }
}

const masked = new Set<string>()

/** Masks user:password@ (or a token as user) in the forms a log could show: as written, decoded, Basic. */
function maskCredentials(value: string): void {
  const url = URL.parse(value)
  if (!url || (!url.username && !url.password)) return
  const secret = url.password || url.username
  const basic = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
  for (const form of new Set([secret, decodeURIComponent(secret), btoa(basic)])) {
    if (!masked.has(form)) core.setSecret(form)
    masked.add(form)
  }
}

/** One line for a connection the proxy refused: names the proxy and the host, never credentials. */
export function proxyRefusal(proxy: URL, host: string, reason: string): string {
  return `The proxy ${proxyLabel(proxy)} refused the connection to ${host} (${reason}): check HTTPS_PROXY/HTTP_PROXY, that the proxy allows ${host}, and NO_PROXY for hosts to reach directly.`
}

/**
 * Thrown by the SDK's proxy agent when the proxy cannot be reached or will not open a tunnel
 * (the error the SDK then reports carries the proxy and the host).
 */
export class ProxyConnectError extends Error {
  constructor(
    readonly proxy: URL,
    readonly host: string,
    readonly reason: string
  ) {
    super(proxyRefusal(proxy, host, reason))
    this.name = 'ProxyConnectError'
  }
}

/**
 * Recognises a failure of @actions/http-client's tunnel (tool-cache downloads) to go through
 * the proxy, and describes it in one line; undefined when `url` had no proxy or it was not that.
 */
export function describeTunnelFailure(url: string, error: unknown): string | undefined {
  const proxy = proxyFor(url)
  if (!proxy) return undefined
  const message = error instanceof Error ? error.message : String(error)
  const tunnel = /tunneling socket could not be established, (.*)$/i.exec(message)
  if (!tunnel) return undefined
  const reason = tunnel[1].replace(/^cause=/, '').replace(/^statusCode=(\d+)/, 'HTTP $1')
  return proxyRefusal(proxy, new URL(url).host, reason)
}
