/**
 * The outside services of an attestation, faked on loopback for one test file:
 * - the runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN), minting RS256 JWTs with
 *   the claims @actions/attest requires and `aud` as requested;
 * - an HTTPS front on <loopback address>:443 that answers, by Host, for the fixed names
 *   @actions/attest uses: token.actions.githubusercontent.com (OpenID configuration + JWKS),
 *   fulcio.sigstore.dev / rekor.sigstore.dev (public-good) and fulcio.githubapp.com /
 *   timestamp.githubapp.com (GitHub's instance), served by @sigstore/mock's handlers, and the TUF
 *   repositories that publish the instances' trusted roots (tuf-repo-cdn.sigstore.dev, seeded in
 *   the XDG_DATA_HOME cache as a real root would be embedded; tuf-repo.github.com);
 * - GitHub's attestations API (GITHUB_API_URL), recording calls, optionally answering 403.
 * The action reaches the front through withHosts(world.hosts()) and NODE_EXTRA_CA_CERTS.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import path from 'node:path'
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
  type HandlerFn
} from '@sigstore/mock'
import { bundleFromJSON } from '@sigstore/bundle'
import { toSignedEntity, toTrustMaterial, Verifier, type Signer } from '@sigstore/verify'
import { makeHostCert, type TestCerts } from './certs.js'
import { makeTempDir } from './paths.js'
import { tufRepo, type TufRepo } from './tuf-repo.js'

export const ISSUER_HOST = 'token.actions.githubusercontent.com'
export const PUBLIC_FULCIO = 'fulcio.sigstore.dev'
export const PUBLIC_REKOR = 'rekor.sigstore.dev'
export const GITHUB_FULCIO = 'fulcio.githubapp.com'
export const GITHUB_TSA = 'timestamp.githubapp.com'
export const PUBLIC_TUF = 'tuf-repo-cdn.sigstore.dev'
export const GITHUB_TUF = 'tuf-repo.github.com'
const NAMES = [
  ISSUER_HOST,
  PUBLIC_FULCIO,
  PUBLIC_REKOR,
  GITHUB_FULCIO,
  GITHUB_TSA,
  PUBLIC_TUF,
  GITHUB_TUF
] as const
type Name = (typeof NAMES)[number]

/** The repository and workflow the fake tokens speak for (matches runAction()'s GITHUB_* env). */
export const WORKFLOW = {
  repository: 'e2e/helm-ecr-publish-test',
  ref: 'refs/heads/main',
  sha: '0000000000000000000000000000000000000000',
  path: '.github/workflows/release.yml',
  get jobWorkflowRef(): string {
    return `${this.repository}/${this.path}@${this.ref}`
  },
  /** The certificate identity real Fulcio gives a GitHub Actions token. */
  get identity(): string {
    return `https://github.com/${this.jobWorkflowRef}`
  }
}

export interface GitHubApiCall {
  path: string
  status: number
  authorization?: string
  bundle?: { mediaType?: string }
}

export interface SigstoreWorld {
  /** Env for runAction(): OIDC endpoint, GITHUB_SERVER_URL/API_URL/EVENT_PATH, CA. */
  env: Record<string, string>
  /** GITHUB_EVENT_PATH of a push to a public (public-good Sigstore) or private repository. */
  eventPath(visibility: 'public' | 'private'): string
  /** Hosts map for withHosts(); names in `unreachable` map to an address nothing listens on. */
  hosts(opts?: { unreachable?: Name[] }): Record<string, string>
  /** Requests the front answered, by host name. */
  readonly frontRequests: { host: string; method: string; path: string; status: number }[]
  /** Audiences of the OIDC tokens minted so far. */
  readonly tokenAudiences: string[]
  readonly githubCalls: GitHubApiCall[]
  /** 'ok': 201 with an id; 'forbidden': 403 as for a token without attestations: write. */
  githubMode: 'ok' | 'forbidden'
  /**
   * Tokens minted from now on speak for another repository's workflow (its certificate
   * identity), or again for WORKFLOW when undefined.
   */
  signAs(repository: string | undefined): void
  /** Verifies a bundle (JSON) against the mock trust root; returns the signer (identity). */
  verify(bundle: unknown): Signer
  stop(): Promise<void>
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

function jwt(privateKey: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))
  const payload = base64url(JSON.stringify(claims))
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), privateKey)
  return `${header}.${payload}.${base64url(signature)}`
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString()))
    req.on('error', reject)
  })
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function close(server: net.Server): Promise<void> {
  return new Promise(resolve => {
    ;(server as http.Server).closeAllConnections?.()
    server.close(() => resolve())
  })
}

function randomLoopback(): string {
  const b = randomBytes(3)
  return `127.${(b[0] % 250) + 2}.${b[1]}.${(b[2] % 250) + 2}`
}

export interface OidcFake {
  issuer: string
  /** The repository the tokens speak for (WORKFLOW.repository unless changed). */
  repository: string
  /** ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  env: Record<string, string>
  /** Audiences of the tokens minted so far. */
  audiences: string[]
  /** Answers the issuer's /.well-known/ documents; false for other paths. */
  wellKnown(pathOnly: string, res: http.ServerResponse): boolean
  server: http.Server
  stop(): Promise<void>
}

/**
 * The runner's OIDC token endpoint and the issuer's JWKS. `issuer` defaults to this server's own
 * URL (it then serves /.well-known/ itself, for tests that pass the issuer to @actions/attest).
 */
export async function startOidcFake(opts: { issuer?: string } = {}): Promise<OidcFake> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = randomBytes(8).toString('hex')
  const requestToken = `oidc-request-${randomBytes(16).toString('hex')}`
  const audiences: string[] = []
  const jwk = {
    ...publicKey.export({ format: 'jwk' }),
    kid,
    alg: 'RS256',
    use: 'sig'
  }
  let issuer = opts.issuer ?? ''
  const wellKnown = (pathOnly: string, res: http.ServerResponse): boolean => {
    if (pathOnly === '/.well-known/openid-configuration') {
      json(res, 200, { issuer, jwks_uri: `${issuer}/.well-known/jwks` })
    } else if (pathOnly === '/.well-known/jwks') {
      json(res, 200, { keys: [jwk] })
    } else return false
    return true
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (!opts.issuer && wellKnown(url.pathname, res)) return
    if (req.headers.authorization !== `Bearer ${requestToken}`) return json(res, 401, {})
    const repository = fake.repository
    const jobWorkflowRef = `${repository}/${WORKFLOW.path}@${WORKFLOW.ref}`
    const audience =
      url.searchParams.get('audience') ?? `https://github.com/${repository.split('/')[0]}`
    audiences.push(audience)
    const now = Math.floor(Date.now() / 1000)
    const value = jwt(privateKey, kid, {
      iss: issuer,
      aud: audience,
      sub: `repo:${repository}:ref:${WORKFLOW.ref}`,
      // @sigstore/mock's Fulcio takes the certificate's SAN from one claim: real Fulcio builds
      // https://github.com/{job_workflow_ref} for GitHub Actions tokens.
      identity: `https://github.com/${jobWorkflowRef}`,
      iat: now,
      nbf: now - 5,
      exp: now + 300,
      ref: WORKFLOW.ref,
      sha: WORKFLOW.sha,
      repository,
      repository_owner: repository.split('/')[0],
      repository_id: '1001',
      repository_owner_id: '2002',
      event_name: 'push',
      workflow: 'release',
      workflow_ref: jobWorkflowRef,
      job_workflow_ref: jobWorkflowRef,
      runner_environment: 'github-hosted',
      run_id: '1',
      run_attempt: '1'
    })
    json(res, 200, { value })
  })
  await listen(server, 0, '127.0.0.1')
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  issuer ||= url
  const fake: OidcFake = {
    issuer,
    repository: WORKFLOW.repository,
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken
    },
    audiences,
    wellKnown,
    server,
    stop: () => close(server)
  }
  return fake
}

export async function startSigstoreWorld(opts: {
  certs: TestCerts
  /** payload.repository.visibility of the event: 'public' signs with the public-good instance. */
  visibility?: 'public' | 'private'
}): Promise<SigstoreWorld> {
  const servers: net.Server[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map(close))
  }
  try {
    const oidc = await startOidcFake({ issuer: `https://${ISSUER_HOST}` })
    servers.push(oidc.server)
    const issuer = oidc.issuer

    // ------------------------------------------------------------ Sigstore mocks
    const start = new Date(Date.now() - 60_000)
    const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const ctlog = await initializeCTLog(ecKey())
    const ca = await initializeCA(ecKey(), ctlog)
    const tlog = await initializeTLog(`https://${PUBLIC_REKOR}`, ecKey())
    const tsa = await initializeTSA(ecKey())
    // The mock TSA's genTime carries milliseconds, which pkijs writes without trailing zeros
    // (".12Z"); @sigstore/verify accepts only three digits or none. Whole seconds avoid the
    // 1-in-10 "invalid time" this caused (the certificate's validity has whole seconds too).
    ;(tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () => {
      const now = new Date()
      now.setMilliseconds(0)
      return now
    }
    // Real Fulcio builds a GitHub token's SAN from job_workflow_ref; the mock copies one claim.
    const fulcio = fulcioHandler(ca, { subjectClaim: 'identity' })
    const routes: Record<string, { path: string; fn: HandlerFn }> = {
      [PUBLIC_FULCIO]: fulcio,
      [GITHUB_FULCIO]: fulcio,
      [PUBLIC_REKOR]: dsseAsRekorStoresIt(rekorHandler(tlog)),
      [GITHUB_TSA]: tsaHandler(tsa)
    }

    // ------------------------------------------------------------ the HTTPS front on :443
    let tuf: TufRepo = { get: () => undefined, seed: async () => undefined }
    const frontRequests: SigstoreWorld['frontRequests'] = []
    const hostCert = await makeHostCert(opts.certs, NAMES)
    const [cert, key] = await Promise.all([readFile(hostCert.certFile), readFile(hostCert.keyFile)])
    const front = https.createServer({ cert, key }, (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '')
      const pathOnly = (req.url ?? '/').split('?')[0]
      res.on('finish', () =>
        frontRequests.push({
          host,
          method: req.method ?? 'GET',
          path: pathOnly,
          status: res.statusCode
        })
      )
      void (async () => {
        const body = await readBody(req)
        if (host === ISSUER_HOST && oidc.wellKnown(pathOnly, res)) return
        const tufFile = host === PUBLIC_TUF || host === GITHUB_TUF ? tuf.get(pathOnly) : undefined
        if (tufFile && req.method === 'GET') {
          res.writeHead(tufFile.statusCode, {
            'content-type': tufFile.contentType ?? 'application/octet-stream'
          })
          res.end(tufFile.response)
          return
        }
        const route = routes[host]
        if (route && req.method === 'POST' && pathOnly === route.path) {
          const out = await route.fn(body)
          res.writeHead(out.statusCode, { 'content-type': out.contentType ?? 'text/plain' })
          res.end(out.response)
          return
        }
        json(res, 404, { message: `no fake for ${host}${pathOnly}` })
      })().catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { message: String(error) })
        else res.destroy()
      })
    })
    let frontAddress = ''
    for (let attempt = 0; !frontAddress; attempt++) {
      const candidate = randomLoopback()
      try {
        await listen(front, 443, candidate)
        frontAddress = candidate
      } catch (error) {
        if (attempt > 10) throw error
      }
    }
    servers.push(front)
    const deadAddress = randomLoopback() // nothing listens there: connections are refused

    // ------------------------------------------------------------ GitHub's attestations API
    const githubCalls: GitHubApiCall[] = []
    let nextId = 1
    const world = {
      githubMode: 'ok' as 'ok' | 'forbidden'
    }
    const api = http.createServer((req, res) => {
      void readBody(req).then(text => {
        const pathOnly = (req.url ?? '/').split('?')[0]
        const call: GitHubApiCall = {
          path: pathOnly,
          status: 0,
          authorization: req.headers.authorization
        }
        githubCalls.push(call)
        if (req.method !== 'POST' || !/^\/repos\/[^/]+\/[^/]+\/attestations$/.test(pathOnly)) {
          call.status = 404
          return json(res, 404, { message: 'Not Found' })
        }
        call.bundle = (JSON.parse(text) as { bundle?: { mediaType?: string } }).bundle
        if (world.githubMode === 'forbidden') {
          call.status = 403
          return json(res, 403, {
            message: 'Resource not accessible by integration',
            documentation_url: 'https://docs.github.com/rest/repos/attestations'
          })
        }
        call.status = 201
        json(res, 201, { id: nextId++ })
      })
    })
    await listen(api, 0, '127.0.0.1')
    servers.push(api)

    const eventDir = await makeTempDir('event')
    const eventPaths = { public: '', private: '' }
    for (const visibility of ['public', 'private'] as const) {
      eventPaths[visibility] = path.join(eventDir, `${visibility}.json`)
      await writeFile(
        eventPaths[visibility],
        JSON.stringify({ repository: { full_name: WORKFLOW.repository, visibility } })
      )
    }
    const eventPath = eventPaths[opts.visibility ?? 'public']

    const trustedRoot = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      certificateAuthorities: [
        {
          subject: { commonName: 'sigstore', organization: 'sigstore.mock' },
          uri: `https://${PUBLIC_FULCIO}`,
          certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer) }] },
          validFor: { start },
          operator: 'sigstore.mock'
        }
      ],
      tlogs: [
        {
          baseUrl: `https://${PUBLIC_REKOR}`,
          logId: { keyId: sha256(tlog.publicKey) },
          hashAlgorithm: 1, // SHA2_256
          publicKey: { rawBytes: tlog.publicKey, keyDetails: 5, validFor: { start } }, // P-256
          checkpointKeyId: undefined,
          operator: 'sigstore.mock'
        }
      ],
      ctlogs: [
        {
          baseUrl: 'https://ctfe.sigstore.dev',
          logId: { keyId: Buffer.from(ctlog.logID.buffer) },
          hashAlgorithm: 1,
          publicKey: { rawBytes: ctlog.publicKey, keyDetails: 5, validFor: { start } },
          checkpointKeyId: undefined,
          operator: 'sigstore.mock'
        }
      ],
      timestampAuthorities: [
        {
          subject: { commonName: 'tsa', organization: 'sigstore.mock' },
          uri: `https://${GITHUB_TSA}`,
          certChain: {
            certificates: [
              { rawBytes: Buffer.from(tsa.intCertificate.buffer) },
              { rawBytes: Buffer.from(tsa.rootCertificate.buffer) }
            ]
          },
          validFor: { start },
          operator: 'sigstore.mock'
        }
      ]
    }
    tuf = tufRepo(trustedRoot)
    const dataHome = await makeTempDir('xdg-data')
    await tuf.seed(dataHome, `https://${PUBLIC_TUF}`)
    const trust = toTrustMaterial(trustedRoot as unknown as Parameters<typeof toTrustMaterial>[0])
    const verifier = new Verifier(trust, {
      tlogThreshold: 0,
      ctlogThreshold: 1,
      timestampThreshold: 1
    })

    return {
      env: {
        ...oidc.env,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_API_URL: `http://127.0.0.1:${(api.address() as net.AddressInfo).port}`,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: WORKFLOW.repository,
        NODE_EXTRA_CA_CERTS: opts.certs.caFile,
        XDG_DATA_HOME: dataHome
      },
      eventPath: visibility => eventPaths[visibility],
      hosts: ({ unreachable = [] } = {}) =>
        Object.fromEntries(
          NAMES.map(n => [n, unreachable.includes(n) ? deadAddress : frontAddress])
        ),
      frontRequests,
      tokenAudiences: oidc.audiences,
      githubCalls,
      get githubMode() {
        return world.githubMode
      },
      set githubMode(mode) {
        world.githubMode = mode
      },
      signAs: repository => {
        oidc.repository = repository ?? WORKFLOW.repository
      },
      verify: bundle => {
        return verifier.verify(toSignedEntity(bundleFromJSON(bundle)), {
          subjectAlternativeName: WORKFLOW.identity,
          extensions: { issuer }
        })
      },
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * @sigstore/mock's Rekor logs the proposed entry as sent; real Rekor stores a DSSE entry in its
 * canonical form (envelope and payload hashes, signatures with their verifiers), which is what
 * @sigstore/verify compares the bundle with. This does that transformation before logging.
 */
function dsseAsRekorStoresIt(handler: { path: string; fn: HandlerFn }): {
  path: string
  fn: HandlerFn
} {
  return {
    path: handler.path,
    fn: body => {
      const entry = JSON.parse(body) as {
        kind?: string
        spec?: { proposedContent?: { envelope: string; verifiers: string[] } }
      }
      const proposed = entry.kind === 'dsse' ? entry.spec?.proposedContent : undefined
      if (!proposed) return handler.fn(body)
      const envelope = JSON.parse(proposed.envelope) as {
        payload: string
        signatures: { sig: string }[]
      }
      const hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')
      return handler.fn(
        JSON.stringify({
          apiVersion: '0.0.1',
          kind: 'dsse',
          spec: {
            envelopeHash: { algorithm: 'sha256', value: hex(proposed.envelope) },
            payloadHash: {
              algorithm: 'sha256',
              value: hex(Buffer.from(envelope.payload, 'base64'))
            },
            signatures: envelope.signatures.map((sig, i) => ({
              signature: sig.sig,
              verifier: proposed.verifiers[i] ?? proposed.verifiers[0]
            }))
          }
        })
      )
    }
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}
