/**
 * Issue 12: signed build provenance. The bundled action runs in a private mount namespace whose
 * /etc/hosts maps Sigstore's and GitHub's fixed names to loopback fakes (@sigstore/mock Fulcio,
 * Rekor and TSA behind one HTTPS front; a fake OIDC issuer; a fake attestations API), and pushes
 * through the ECR emulator (which serves the referrers API, as ECR does) and straight to the real
 * distribution registry, which has none: there the bundle lands under the tag schema
 * (`sha256-<hex>`).
 */
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canMapHosts, withHosts } from '../../testbed/hosts.js'
import { request } from '../../testbed/net-util.js'
import { annotations, E2E_GITHUB_TOKEN, errorLines, runAction } from '../../testbed/runner.js'
import {
  createRepository,
  manifestPuts,
  servedDigest,
  workspaceWith
} from '../../testbed/scenario.js'
import { ReferrersClient } from '../../src/attest/oci-client.js'
import {
  GITHUB_FULCIO,
  GITHUB_TSA,
  GITHUB_TUF,
  ISSUER_HOST,
  PUBLIC_FULCIO,
  PUBLIC_REKOR,
  PUBLIC_TUF,
  startSigstoreWorld,
  WORKFLOW,
  type SigstoreWorld
} from '../../testbed/sigstore-world.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { startTokenFront, type TokenFront } from '../../testbed/token-front.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

const HELM = '3.18.0'
const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json'
const INDEX = 'application/vnd.oci.image.index.v1+json'
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json'

let stack: Stack
let world: SigstoreWorld
let toolCache: string
let front: TokenFront

beforeAll(async () => {
  ;[stack, toolCache] = await Promise.all([
    startStack({ helmVersions: [HELM] }),
    prewarmedToolCache([HELM])
  ])
  world = await startSigstoreWorld({ certs: stack.certs })
  front = await startTokenFront(stack.registry)
})
afterAll(async () => {
  await front?.stop()
  await world?.stop()
  await stack?.stop()
})

function run(
  workspace: string,
  inputs: Record<string, string>,
  opts: {
    unreachable?: Parameters<SigstoreWorld['hosts']>[0]
    env?: Record<string, string>
    debug?: boolean
    timeoutMs?: number
  } = {}
) {
  return runAction({
    timeoutMs: opts.timeoutMs,
    workspace,
    toolCache,
    debug: opts.debug,
    env: { ...stack.actionEnv, ...world.env, ...opts.env },
    wrapCommand: withHosts(world.hosts(opts.unreachable)),
    inputs: { 'helm-version': HELM, attest: 'true', ...inputs }
  })
}

/** GET from the backend registry (the distribution registry behind the emulator). */
async function backendGet(path: string, accept: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(`${stack.registry.url}/v2/${path}`, {
    headers: { authorization: stack.registry.authorization, accept }
  })
  return { status: res.status, body: res.body }
}

interface Referrer {
  digest: string
  artifactType?: string
  annotations?: Record<string, string>
}

/**
 * Referrers of `digest` in `repo`. Through the ECR emulator: its referrers API, and no tag-schema
 * index. Straight in the distribution registry (no referrers API): the `sha256-<hex>` index.
 */
async function referrersOf(
  repo: string,
  digest: string,
  where: 'ecr' | 'registry' = 'ecr'
): Promise<Referrer[]> {
  const tagSchema = await backendGet(`${repo}/manifests/${digest.replace(':', '-')}`, INDEX)
  if (where === 'ecr') {
    expect(tagSchema.status).toBe(404)
    return stack.ecr.referrers(repo, digest)
  }
  expect((await backendGet(`${repo}/referrers/${digest}`, INDEX)).status).toBe(404)
  if (tagSchema.status === 404) return []
  expect(tagSchema.status).toBe(200)
  return (JSON.parse(tagSchema.body.toString()) as { manifests: Referrer[] }).manifests
}

/** The bundle a referrer manifest holds (its one layer). */
async function bundleOf(repo: string, referrer: string): Promise<Record<string, unknown>> {
  const manifest = JSON.parse(
    (await backendGet(`${repo}/manifests/${referrer}`, MANIFEST)).body.toString()
  ) as {
    layers: { digest: string; mediaType: string }[]
    subject: { digest: string }
  }
  expect(manifest.layers).toHaveLength(1)
  const blob = await backendGet(`${repo}/blobs/${manifest.layers[0].digest}`, '*/*')
  return JSON.parse(blob.body.toString()) as Record<string, unknown>
}

function statementOf(bundle: Record<string, unknown>): {
  subject: { name: string; digest: { sha256: string } }[]
  predicateType: string
  predicate: { buildDefinition: { resolvedDependencies: { digest: { gitCommit: string } }[] } }
} {
  const envelope = bundle.dsseEnvelope as { payload: string }
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString())
}

async function expectVerifiedReferrer(
  chart: string,
  digest: string,
  where: 'ecr' | 'registry' = 'ecr',
  /** The registry the chart was pushed to, when not the one it is read from. */
  pushedTo?: string
): Promise<string> {
  const referrers = await referrersOf(chart, digest, where)
  expect(referrers).toHaveLength(1)
  expect(referrers[0].artifactType).toBe(BUNDLE_V03)
  expect(referrers[0].annotations).toMatchObject({
    'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    'org.opencontainers.image.source': `https://github.com/${WORKFLOW.repository}`
  })
  const bundle = await bundleOf(chart, referrers[0].digest)
  expect(bundle.mediaType).toBe(BUNDLE_V03)
  const signer = world.verify(bundle)
  expect(signer.identity?.subjectAlternativeName).toBe(WORKFLOW.identity)
  const statement = statementOf(bundle)
  expect(statement.subject).toEqual([
    {
      name: `${pushedTo ?? (where === 'ecr' ? stack.ecr.registryHost : stack.registry.host)}/${chart}`,
      digest: { sha256: digest.replace('sha256:', '') }
    }
  ])
  expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1')
  expect(statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit).toBe(
    WORKFLOW.sha
  )
  return referrers[0].digest
}

describe.runIf(canMapHosts())('attest', () => {
  it('attests every pushed chart: a verifying bundle as a registry referrer, a GitHub copy, outputs and summary', async () => {
    const charts = ['att-one', 'att-two']
    await Promise.all(charts.map(c => createRepository(stack, c)))
    const workspace = await workspaceWith(charts.map(name => ({ name, version: '1.0.0' })))
    const githubBefore = world.githubCalls.length
    const result = await run(workspace, { charts: 'charts/*' }, { debug: true })
    expect(errorLines(result.stdout)).toEqual([])
    expect(annotations(result.stdout, 'warning')).toEqual([])
    expect(result.exitCode).toBe(0)
    // Even with debug logs, no secret reaches the log unmasked: the GitHub token, the OIDC
    // request token, OIDC JWTs, the registry password (add-mask lines ask the runner to mask).
    const logged = (result.stdout + result.stderr)
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    expect(logged).not.toContain(E2E_GITHUB_TOKEN)
    expect(logged).not.toContain(world.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    expect(logged).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/)
    expect(logged).not.toMatch(/(?<!helm-)ecr-e2e-[\w-]{8,}/) // the emulator's registry passwords

    const entries = JSON.parse(result.outputs.charts) as {
      chart: string
      digest: string
      attestation: { digest: string; url?: string; verified?: boolean }
    }[]
    for (const entry of entries) {
      expect(entry.attestation.verified).toBe(true)
      expect(entry.digest).toBe(await servedDigest(stack, entry.chart, '1.0.0'))
      expect(await expectVerifiedReferrer(entry.chart, entry.digest)).toBe(entry.attestation.digest)
      expect(entry.attestation.url).toMatch(
        new RegExp(`^https://github\\.com/${WORKFLOW.repository}/attestations/\\d+$`)
      )
    }
    expect(result.outputs['attestation-digest']).toBe(entries[0].attestation.digest)
    expect(result.outputs['attestation-url']).toBe(entries[0].attestation.url)

    const calls = world.githubCalls.slice(githubBefore)
    expect(calls.map(c => [c.path, c.status, c.authorization, c.bundle?.mediaType])).toEqual(
      charts.map(() => [
        `/repos/${WORKFLOW.repository}/attestations`,
        201,
        `Bearer ${E2E_GITHUB_TOKEN}`,
        BUNDLE_V03
      ])
    )
    // Public repository: the public-good instance (Fulcio + Rekor), tokens for both audiences.
    const hosts = new Set(world.frontRequests.map(r => r.host))
    expect(hosts.has(PUBLIC_FULCIO) && hosts.has(PUBLIC_REKOR)).toBe(true)
    expect(new Set(world.tokenAudiences)).toEqual(new Set(['nobody', 'sigstore']))

    expect(result.summary).toContain(
      `gh attestation verify oci://${stack.ecr.registryHost}/att-one:1.0.0 --repo ${WORKFLOW.repository} --bundle-from-oci`
    )
    expect(result.summary).toContain(
      'cosign verify-attestation --new-bundle-format --type slsaprovenance1'
    )
    expect(result.summary).toContain('kind: OCIRepository')
    expect(result.summary).toContain('kind: ClusterPolicy')
  })

  it('refuses up front without an OIDC token (no id-token: write): nothing is pushed', async () => {
    const workspace = await workspaceWith([{ name: 'att-refused', version: '1.0.0' }])
    const apiBefore = stack.ecr.apiCalls.length
    const registryBefore = stack.ecr.registryRequests.length
    const result = await run(
      workspace,
      { charts: 'charts/att-refused' },
      { env: { ACTIONS_ID_TOKEN_REQUEST_URL: '' } }
    )
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      'Input "attest" is true but the job has no OIDC token to sign with: add "permissions: id-token: write" to the job (and "attestations: write" to also store attestations in GitHub), or set "attest: false".'
    ])
    expect(stack.ecr.apiCalls.length).toBe(apiBefore)
    expect(stack.ecr.registryRequests.length).toBe(registryBefore)
  })

  it('an unreachable Rekor leaves the chart pushed with one line; skip-existing attests it once, without re-pushing', async () => {
    const chart = 'att-rekor'
    await createRepository(stack, chart)
    const workspace = await workspaceWith([{ name: chart, version: '2.0.0' }])

    const failed = await run(
      workspace,
      { charts: `charts/${chart}` },
      { unreachable: { unreachable: [PUBLIC_REKOR] } }
    )
    expect(failed.exitCode).toBe(1)
    const errors = errorLines(failed.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^Sigstore could not sign the provenance of .*att-rekor@sha256:[0-9a-f]{64} after retries \(.*rekor\.sigstore\.dev.*\): check the runner's network and proxy settings for Sigstore \(Fulcio, Rekor, the timestamp authority\); the chart stays pushed, and a re-run with "skip-existing: true" attests it\.$/
    )
    expect(failed.outputs.pushed).toBe('true')
    const digest = await servedDigest(stack, chart, '2.0.0')
    expect(failed.outputs.digest).toBe(digest)
    expect(await referrersOf(chart, digest)).toEqual([])

    const putsBefore = manifestPuts(stack)
    const rerun = await run(workspace, { charts: `charts/${chart}`, 'skip-existing': 'true' })
    expect(errorLines(rerun.stdout)).toEqual([])
    expect(rerun.exitCode).toBe(0)
    expect(rerun.outputs.pushed).toBe('false')
    const referrer = await expectVerifiedReferrer(chart, digest)
    expect(rerun.outputs['attestation-digest']).toBe(referrer)
    // Only the referrer went up (the referrers API needs no index), never the chart again.
    expect(manifestPuts(stack) - putsBefore).toBe(1)

    const signingBefore = world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length
    const third = await run(workspace, { charts: `charts/${chart}`, 'skip-existing': 'true' })
    expect(third.exitCode).toBe(0)
    expect(third.outputs['attestation-digest']).toBe(referrer)
    expect(await referrersOf(chart, digest)).toHaveLength(1)
    expect(world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length).toBe(signingBefore)
    expect(manifestPuts(stack)).toBe(putsBefore + 1)
  })

  it('a token without attestations: write warns once; every chart is still attested in the registry', async () => {
    const charts = ['att-warn-a', 'att-warn-b', 'att-warn-c']
    await Promise.all(charts.map(c => createRepository(stack, c)))
    const workspace = await workspaceWith(charts.map(name => ({ name, version: '0.3.0' })))
    const githubBefore = world.githubCalls.length
    world.githubMode = 'forbidden'
    try {
      const result = await run(workspace, { charts: 'charts/*', 'max-parallel': '1' })
      expect(errorLines(result.stdout)).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(annotations(result.stdout, 'warning')).toEqual([
        expect.stringMatching(
          /^Attestations are stored in the registry only: .*HTTP 403.*"permissions: attestations: write"/
        )
      ])
      expect(world.githubCalls.length - githubBefore).toBe(1)
      for (const entry of JSON.parse(result.outputs.charts) as {
        chart: string
        digest: string
        attestation: { url?: string }
      }[]) {
        await expectVerifiedReferrer(entry.chart, entry.digest)
        expect(entry.attestation.url).toBeUndefined()
      }
      expect(result.outputs['attestation-url']).toBe('')
    } finally {
      world.githubMode = 'ok'
    }
  })

  it("a private repository signs with GitHub's instance (Fulcio + timestamp authority, no Rekor)", async () => {
    const chart = 'att-private'
    await createRepository(stack, chart)
    const workspace = await workspaceWith([{ name: chart, version: '1.0.0' }])
    const before = world.frontRequests.length
    const result = await run(
      workspace,
      { charts: `charts/${chart}` },
      { env: { GITHUB_EVENT_PATH: world.eventPath('private') } }
    )
    expect(errorLines(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
    const used = new Set(world.frontRequests.slice(before).map(r => r.host))
    expect(used.has(GITHUB_FULCIO) && used.has(GITHUB_TSA)).toBe(true)
    expect(used.has(PUBLIC_REKOR) || used.has(PUBLIC_FULCIO)).toBe(false)
    // Verified against GitHub's trusted root, from its TUF repository.
    expect(used.has(GITHUB_TUF)).toBe(true)
    expect(JSON.parse(result.outputs.charts)[0].attestation.verified).toBe(true)
    await expectVerifiedReferrer(chart, result.outputs.digest)
  })

  it('a registry without the referrers API (distribution 2.8) gets the tag schema; a re-run leaves it alone', async () => {
    const chart = 'att-plain'
    const workspace = await workspaceWith([{ name: chart, version: '1.0.0' }])
    const inputs = {
      charts: `charts/${chart}`,
      registry: stack.registry.host,
      username: stack.registry.username,
      password: stack.registry.password,
      'plain-http': 'true'
    }
    const result = await run(workspace, inputs)
    expect(errorLines(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
    const referrer = await expectVerifiedReferrer(chart, result.outputs.digest, 'registry')
    expect(result.outputs['attestation-digest']).toBe(referrer)

    const fulcioBefore = world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length
    const rerun = await run(workspace, { ...inputs, 'skip-existing': 'true' })
    expect(rerun.exitCode).toBe(0)
    expect(rerun.outputs.pushed).toBe('false')
    expect(rerun.outputs['attestation-digest']).toBe(referrer)
    expect(await referrersOf(chart, result.outputs.digest, 'registry')).toHaveLength(1)
    expect(world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length).toBe(fulcioBefore)
  })

  it('Sigstore and the OIDC issuer are reached through HTTPS_PROXY when direct connections fail', async () => {
    // A CONNECT proxy that knows where the fakes are; the action's own hosts file sends every
    // Sigstore and issuer name to an address where nothing listens.
    const front = world.hosts()
    const tunnels: string[] = []
    const sockets = new Set<net.Socket>()
    const proxy = http.createServer((_req, res) => res.writeHead(405).end())
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const [host, port] = (req.url ?? '').split(':')
      tunnels.push(req.url ?? '')
      sockets.add(client)
      const upstream = net.connect(Number(port), front[host] ?? host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      sockets.add(upstream)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const chart = 'att-proxy'
      await createRepository(stack, chart)
      const workspace = await workspaceWith([{ name: chart, version: '1.0.0' }])
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`
      const result = await run(
        workspace,
        { charts: `charts/${chart}` },
        {
          unreachable: { unreachable: [ISSUER_HOST, PUBLIC_FULCIO, PUBLIC_REKOR, PUBLIC_TUF] },
          env: { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1,localhost' }
        }
      )
      expect(errorLines(result.stdout)).toEqual([])
      expect(result.exitCode).toBe(0)
      await expectVerifiedReferrer(chart, result.outputs.digest)
      expect(new Set(tunnels)).toEqual(
        new Set([
          `${ISSUER_HOST}:443`,
          `${PUBLIC_FULCIO}:443`,
          `${PUBLIC_REKOR}:443`,
          `${PUBLIC_TUF}:443`
        ])
      )
      expect(JSON.parse(result.outputs.charts)[0].attestation.verified).toBe(true)
    } finally {
      // CONNECT tunnels are no longer the server's connections: end them here.
      for (const socket of sockets) socket.destroy()
      proxy.closeAllConnections()
      await new Promise<void>(resolve => proxy.close(() => resolve()))
    }
  })

  /** Inputs for the distribution registry (no referrers API: the tag schema), or the token front. */
  function plain(charts: string, host = stack.registry.host): Record<string, string> {
    return {
      charts,
      registry: host,
      username: stack.registry.username,
      password: stack.registry.password,
      'plain-http': 'true'
    }
  }
  const client = (chart: string) =>
    new ReferrersClient(`${stack.registry.host}/${chart}`, stack.registry)

  /** The bundle of `referrer`, checked as this repository's provenance of `digest`. */
  async function expectOurs(chart: string, referrer: string, digest: string): Promise<void> {
    const bundle = await bundleOf(chart, referrer)
    expect(world.verify(bundle).identity?.subjectAlternativeName).toBe(WORKFLOW.identity)
    expect(statementOf(bundle).subject[0].digest.sha256).toBe(digest.replace('sha256:', ''))
  }

  it("forged referrers (another repository's workflow, a replay of another version, a rewritten subject), alone and together, do not count: the re-run attests anew and reports that one", async () => {
    // A genuine attestation of another version: the material of the replay and the rewrite.
    const source = 'att-forge-source'
    const sourceRun = await run(
      await workspaceWith([{ name: source, version: '1.0.0' }]),
      plain(`charts/${source}`)
    )
    expect(sourceRun.exitCode).toBe(0)
    const sourceBundle = await bundleOf(source, sourceRun.outputs['attestation-digest'])

    const targets = ['att-forge-other', 'att-forge-replay', 'att-forge-rewrite', 'att-forge-all']
    const workspace = await workspaceWith(targets.map(name => ({ name, version: '1.0.0' })))
    const published = await run(workspace, { ...plain('charts/*'), attest: 'false' })
    expect(published.exitCode).toBe(0)
    const digest = Object.fromEntries(
      (JSON.parse(published.outputs.charts) as { chart: string; digest: string }[]).map(e => [
        e.chart,
        e.digest
      ])
    )

    // Another repository's workflow attests two of them (a valid signature, the wrong identity).
    world.signAs('mallory/other')
    try {
      const other = await run(
        workspace,
        { ...plain('charts/att-forge-other,charts/att-forge-all'), 'skip-existing': 'true' },
        { env: { GITHUB_REPOSITORY: 'mallory/other' } }
      )
      expect(other.exitCode).toBe(0)
    } finally {
      world.signAs(undefined)
    }

    // Plant the forgeries, annotated as this repository's provenance.
    const ours = {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
      'org.opencontainers.image.source': `https://github.com/${WORKFLOW.repository}`
    }
    const plant = async (chart: string, bundle: Record<string, unknown>) =>
      (
        await client(chart).attach(
          digest[chart],
          Buffer.from(JSON.stringify(bundle)),
          BUNDLE_V03,
          ours
        )
      ).digest
    const forged: Record<string, string[]> = Object.fromEntries(targets.map(t => [t, []]))
    for (const chart of ['att-forge-other', 'att-forge-all']) {
      const [mallory] = await referrersOf(chart, digest[chart], 'registry')
      forged[chart].push(await plant(chart, await bundleOf(chart, mallory.digest)))
    }
    for (const chart of ['att-forge-replay', 'att-forge-all']) {
      forged[chart].push(await plant(chart, sourceBundle))
    }
    for (const chart of ['att-forge-rewrite', 'att-forge-all']) {
      const statement = statementOf(sourceBundle)
      statement.subject[0].digest.sha256 = digest[chart].replace('sha256:', '')
      const envelope = sourceBundle.dsseEnvelope as Record<string, unknown>
      forged[chart].push(
        await plant(chart, {
          ...sourceBundle,
          dsseEnvelope: {
            ...envelope,
            payload: Buffer.from(JSON.stringify(statement)).toString('base64')
          }
        })
      )
    }

    const fulcioBefore = world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length
    const rerun = await run(workspace, { ...plain('charts/*'), 'skip-existing': 'true' })
    expect(errorLines(rerun.stdout)).toEqual([])
    expect(annotations(rerun.stdout, 'warning')).toEqual([])
    expect(rerun.exitCode).toBe(0)
    // One new signature per chart: none of them counted as attested.
    expect(world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length - fulcioBefore).toBe(4)
    for (const entry of JSON.parse(rerun.outputs.charts) as {
      chart: string
      digest: string
      attestation: { digest: string; verified?: boolean }
    }[]) {
      expect(entry.attestation.verified).toBe(true)
      expect(forged[entry.chart]).not.toContain(entry.attestation.digest)
      await expectOurs(entry.chart, entry.attestation.digest, entry.digest)
      for (const f of forged[entry.chart]) {
        expect(rerun.stdout).toMatch(
          new RegExp(`Referrer ${f} is not this repository's attestation: `)
        )
      }
    }
    expect(rerun.stdout).toMatch(
      /is not this repository's attestation: signed by https:\/\/github\.com\/mallory\/other\//
    )
    expect(rerun.stdout).toMatch(/is not this repository's attestation: the subject is not sha256:/)
    expect(rerun.stdout).toMatch(
      /is not this repository's attestation: its signature does not verify/
    )
  })

  it('a registry that answers with a Bearer challenge: the first run attests, a skip-existing re-run finds it and attaches nothing', async () => {
    const chart = 'att-bearer'
    const workspace = await workspaceWith([{ name: chart, version: '1.0.0' }])
    const tokensBefore = front.requests.filter(r => r.path === '/token').length
    const first = await run(workspace, plain(`charts/${chart}`, front.host))
    expect(errorLines(first.stdout)).toEqual([])
    expect(first.exitCode).toBe(0)
    const referrer = await expectVerifiedReferrer(
      chart,
      first.outputs.digest,
      'registry',
      front.host
    )
    expect(first.outputs['attestation-digest']).toBe(referrer)
    expect(JSON.parse(first.outputs.charts)[0].attestation.verified).toBe(true)
    expect(front.requests.filter(r => r.path === '/token').length).toBeGreaterThan(tokensBefore)

    const fulcioBefore = world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length
    const rerun = await run(workspace, {
      ...plain(`charts/${chart}`, front.host),
      'skip-existing': 'true'
    })
    expect(errorLines(rerun.stdout)).toEqual([])
    expect(rerun.exitCode).toBe(0)
    expect(rerun.outputs.pushed).toBe('false')
    expect(rerun.outputs['attestation-digest']).toBe(referrer)
    expect(JSON.parse(rerun.outputs.charts)[0].attestation).toEqual({
      digest: referrer,
      verified: true
    })
    expect(await referrersOf(chart, first.outputs.digest, 'registry')).toHaveLength(1)
    expect(world.frontRequests.filter(r => r.host === PUBLIC_FULCIO).length).toBe(fulcioBefore)
  })

  it('a stored bundle whose subject does not match fails the chart in one line; the chart stays pushed', async () => {
    const chart = 'att-tampered'
    const workspace = await workspaceWith([{ name: chart, version: '1.0.0' }])
    front.tamperBundles = true
    try {
      const result = await run(workspace, plain(`charts/${chart}`, front.host))
      expect(result.exitCode).toBe(1)
      expect(result.outputs.pushed).toBe('true')
      expect(errorLines(result.stdout)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^The attestation stored for ${result.outputs.digest} is not the one signed \\(referrer sha256:[0-9a-f]{64} holds a bundle whose subject is sha256:0{64}\\): check what rewrites content between the runner and the registry; the chart stays pushed, and a re-run with "skip-existing: true" attests it\\.$`
          )
        )
      ])
    } finally {
      front.tamperBundles = false
    }
  })

  it('trusted root unavailable: the skip-existing re-run attests anew, saying so in one line', async () => {
    const chart = 'att-no-root'
    const workspace = await workspaceWith([{ name: chart, version: '1.0.0' }])
    const first = await run(workspace, plain(`charts/${chart}`))
    expect(first.exitCode).toBe(0)
    const rerun = await run(
      workspace,
      { ...plain(`charts/${chart}`), 'skip-existing': 'true' },
      { unreachable: { unreachable: [PUBLIC_TUF] } }
    )
    expect(errorLines(rerun.stdout)).toEqual([])
    expect(rerun.exitCode).toBe(0)
    expect(annotations(rerun.stdout, 'warning')).toEqual([
      expect.stringMatching(
        /^Attestations could not be verified: the trusted root of the public-good Sigstore instance could not be obtained from https:\/\/tuf-repo-cdn\.sigstore\.dev \(.*\); published versions are attested anew \(a duplicate attestation is harmless\)\.$/
      )
    ])
    const referrers = await referrersOf(chart, first.outputs.digest, 'registry')
    expect(referrers).toHaveLength(2)
    const attestation = JSON.parse(rerun.outputs.charts)[0].attestation
    expect(attestation.digest).not.toBe(first.outputs['attestation-digest'])
    expect(attestation.verified).toBeUndefined()
    await expectOurs(chart, attestation.digest, first.outputs.digest)
  })
})
