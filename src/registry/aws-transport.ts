import type { NodeHttpHandler } from '@smithy/node-http-handler'
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as tls from 'node:tls'
import { UserError, errorMessage } from '../errors.js'
import { ProxyConnectError, configuredProxy, proxyFor } from '../runtime/proxy.js'

/*
 * The AWS SDK's transport. The AWS SDK for JavaScript reads neither HTTPS_PROXY nor AWS_CA_BUNDLE,
 * so every SDK client of the action (and the STS client the default credential chain builds for
 * web identity, which inherits the parent client's request handler) gets the handler built here:
 * proxy-agent routes each request by our one rule set (runtime/proxy.ts: the rules the Helm
 * download follows), with the CA bundle on both the tunnelled and the direct connections.
 */

/** Node's default roots (with NODE_EXTRA_CA_CERTS) plus AWS_CA_BUNDLE, or undefined without it. */
export function trustedCas(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const bundle = env.AWS_CA_BUNDLE
  if (!bundle) return undefined
  let pem: string
  try {
    pem = fs.readFileSync(bundle, 'utf8')
  } catch (error) {
    throw new UserError(
      `AWS_CA_BUNDLE names a file that cannot be read (${bundle}: ${errorMessage(error)}): point it at a PEM bundle or unset it.`
    )
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UserError(
      `AWS_CA_BUNDLE (${bundle}) holds no PEM certificate: point it at a PEM bundle (-----BEGIN CERTIFICATE-----) or unset it.`
    )
  }
  const defaults = tls.getCACertificates?.('default') ?? [
    ...tls.rootCertificates,
    ...(env.NODE_EXTRA_CA_CERTS ? [fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8')] : [])
  ]
  return [...defaults, pem]
}

/**
 * The proxy for one request (proxy-agent's getProxyForUrl), by our rules. It also watches the
 * request's way through the proxy, so that a proxy that cannot be reached or refuses the tunnel
 * (https-proxy-agent would hand its 403 page to the SDK as if ECR had sent it) fails with one
 * line naming the proxy and the host.
 */
function proxyForRequest(url: string, req: http.ClientRequest): string {
  const proxy = proxyFor(url)
  if (!proxy) return ''
  const target = new URL(url).host || new URL(url).hostname
  let connected = false
  req.once('socket', () => (connected = true))
  req.once('proxyConnect', (response: { statusCode: number }) => {
    if (response.statusCode !== 200) {
      req.destroy(
        new ProxyConnectError(proxy, target, `CONNECT answered HTTP ${response.statusCode}`)
      )
    }
  })
  // Before the request has a socket, an error is the proxy's (refused, unknown host, closed).
  req.prependOnceListener('error', (error: Error) => {
    if (!connected && !(error instanceof ProxyConnectError)) {
      const refusal = new ProxyConnectError(proxy, target, errorMessage(error))
      error.name = refusal.name
      error.message = refusal.message
    }
  })
  return proxy.href
}

/**
 * The request handler every SDK client of the action uses: HTTPS_PROXY/HTTP_PROXY/NO_PROXY as
 * the Helm download applies them, and AWS_CA_BUNDLE. Undefined (the SDK's default) when none is
 * set; the handler and the proxy agent are loaded only when needed, like the SDK itself does.
 */
export async function awsRequestHandler(
  env: NodeJS.ProcessEnv = process.env
): Promise<NodeHttpHandler | undefined> {
  const ca = trustedCas(env)
  const anyProxy = configuredProxy('https:', env) ?? configuredProxy('http:', env)
  if (!ca && !anyProxy) return undefined
  const [{ NodeHttpHandler }, { ProxyAgent }, https, http] = await Promise.all([
    import('@smithy/node-http-handler'),
    import('proxy-agent'),
    import('node:https'),
    import('node:http')
  ])
  const options = { keepAlive: true, maxSockets: 50, ...(ca ? { ca } : {}) }
  if (!anyProxy) {
    return new NodeHttpHandler({
      httpsAgent: new https.Agent(options),
      httpAgent: new http.Agent(options)
    })
  }
  const agent = new ProxyAgent({
    ...options,
    httpsAgent: new https.Agent(options),
    httpAgent: new http.Agent(options),
    getProxyForUrl: proxyForRequest
  })
  return new NodeHttpHandler({ httpsAgent: agent, httpAgent: agent })
}
