import type { NodeHttpHandler } from '@smithy/node-http-handler'
import type { AgentConnectOpts } from 'agent-base'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as tls from 'node:tls'
import { UserError, errorMessage } from '../errors.js'
import { ProxyConnectError, configuredProxy, proxyFor } from '../runtime/proxy.js'

/*
 * The AWS SDK's transport. The AWS SDK for JavaScript reads neither HTTPS_PROXY nor AWS_CA_BUNDLE,
 * so every SDK client of the action (and the STS client the default credential chain builds for
 * web identity, which inherits the parent client's request handler) gets the handler built here.
 * Each request is routed by our one rule set (runtime/proxy.ts: the rules the Helm download
 * follows) to https-proxy-agent's CONNECT tunnel or to a direct agent, with the CA bundle on both.
 *
 * (proxy-agent does this routing too, with a getProxyForUrl option; but it imports its PAC and
 * SOCKS agents, a JavaScript engine among them, which we never use and ncc cannot leave out.)
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
 * Watches a request's way through `proxy`, so that a proxy that cannot be reached or refuses the
 * tunnel (https-proxy-agent would hand its 403 page to the SDK as if ECR had sent it) fails with
 * one line naming the proxy and the host.
 */
function watchTunnel(req: http.ClientRequest, proxy: URL, target: string): void {
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
}

/**
 * The request handler every SDK client of the action uses: HTTPS_PROXY/HTTP_PROXY/NO_PROXY as
 * the Helm download applies them, and AWS_CA_BUNDLE. Undefined (the SDK's default) when none is
 * set; the handler and the proxy agents are loaded only when needed, like the SDK itself does.
 */
export async function awsRequestHandler(
  env: NodeJS.ProcessEnv = process.env
): Promise<NodeHttpHandler | undefined> {
  const ca = trustedCas(env)
  const anyProxy = configuredProxy('https:', env) ?? configuredProxy('http:', env)
  if (!ca && !anyProxy) return undefined
  const [{ NodeHttpHandler }, { Agent }, { HttpsProxyAgent }] = await Promise.all([
    import('@smithy/node-http-handler'),
    import('agent-base'),
    import('https-proxy-agent')
  ])
  const options = { keepAlive: true, maxSockets: 50, ...(ca ? { ca } : {}) }
  const direct = { https: new https.Agent(options), http: new http.Agent(options) }
  if (!anyProxy) return new NodeHttpHandler({ httpsAgent: direct.https, httpAgent: direct.http })
  const tunnels = new Map<string, InstanceType<typeof HttpsProxyAgent<string>>>()

  /** agent-base hands each request to the agent connect() returns: a tunnel or a direct one. */
  class ProxyRouter extends Agent {
    override connect(req: http.ClientRequest, opts: AgentConnectOpts): http.Agent {
      const target = `${opts.host ?? ''}:${opts.port}`
      const proxy = proxyFor(`${opts.secureEndpoint ? 'https' : 'http'}://${target}`)
      if (!proxy) return opts.secureEndpoint ? direct.https : direct.http
      watchTunnel(req, proxy, target)
      let tunnel = tunnels.get(proxy.href)
      if (!tunnel) {
        tunnel = new HttpsProxyAgent(proxy.href, options)
        tunnels.set(proxy.href, tunnel)
      }
      return tunnel
    }
  }
  const router = new ProxyRouter(options)
  return new NodeHttpHandler({ httpsAgent: router, httpAgent: router })
}
