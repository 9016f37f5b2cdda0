/**
 * Helpers that e2e scenarios share: workspaces with charts, repositories created through the
 * emulator's real API, what the registry really serves, and pulling a chart back with Helm.
 */
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  type ImageTagMutability
} from '@aws-sdk/client-ecr'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { helmCli, type HelmCli } from './helm-cli.js'
import { request } from './net-util.js'
import { makeTempDir } from './paths.js'
import { runAction, type RunActionOptions, type RunActionResult } from './runner.js'
import { makeChart, type ChartSpec, type Stack } from './stack.js'

/** A real SDK client pointed at the emulator. */
export function ecrClient(stack: Stack): ECRClient {
  return new ECRClient({
    region: stack.ecr.region,
    endpoint: stack.ecr.apiUrl,
    credentials: stack.ecr.credentials
  })
}

export async function createRepository(
  stack: Stack,
  name: string,
  mutability: ImageTagMutability = 'MUTABLE'
): Promise<void> {
  await ecrClient(stack).send(
    new CreateRepositoryCommand({ repositoryName: name, imageTagMutability: mutability })
  )
}

/** The digest ECR's API reports for a tag (undefined when absent). */
export async function describeTag(
  stack: Stack,
  repositoryName: string,
  tag: string
): Promise<string | undefined> {
  try {
    const out = await ecrClient(stack).send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] })
    )
    return out.imageDetails?.[0]?.imageDigest
  } catch {
    return undefined
  }
}

/** The manifest digest the backend registry serves for REPO:TAG (its Docker-Content-Digest). */
export async function servedDigest(stack: Stack, repo: string, tag: string): Promise<string> {
  const res = await request(`${stack.registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: stack.registry.authorization,
      accept: 'application/vnd.oci.image.manifest.v1+json'
    }
  })
  const digest = res.headers['docker-content-digest']
  if (res.status !== 200 || typeof digest !== 'string') {
    throw new Error(`registry has no ${repo}:${tag} (HTTP ${res.status})`)
  }
  return digest
}

/** A temp workspace holding the given charts at `<workspace>/<subdir>/<name>` (default `charts`). */
export async function workspaceWith(
  charts: (ChartSpec & { dir?: string })[],
  subdir = 'charts'
): Promise<string> {
  const workspace = await makeTempDir('ws')
  for (const spec of charts) {
    await makeChart(path.join(workspace, spec.dir ?? path.join(subdir, spec.name)), spec)
  }
  return workspace
}

/** A separate Helm, logged in to the emulated ECR with a fresh token. */
export async function loggedInHelm(stack: Stack, version: string): Promise<HelmCli> {
  const helm = await helmCli(version, { caFile: stack.certs.caFile })
  const token = stack.ecr.issueToken()
  const login = await helm.login(stack.ecr.registryHost, token.username, token.password)
  if (login.exitCode !== 0) throw new Error(`login failed: ${login.output}`)
  return helm
}

/** `helm pull REF` (oci://…:TAG or oci://…@sha256:…) with a separate Helm; returns Chart.yaml text. */
export async function pullChart(
  stack: Stack,
  helmVersion: string,
  ref: string
): Promise<{ chartYaml: string; output: string }> {
  const helm = await loggedInHelm(stack, helmVersion)
  try {
    const dest = path.join(helm.home, 'pulled')
    await mkdir(dest, { recursive: true })
    const match = /^(oci:\/\/.+?)(?::([^:/@]+)|@(sha256:[a-f0-9]{64}))$/.exec(ref)
    if (!match) throw new Error(`not an OCI reference with a tag or digest: ${ref}`)
    const [, repo, tag, digest] = match
    const args = digest
      ? ['pull', `${repo}@${digest}`, '--destination', dest, '--untar']
      : ['pull', repo, '--version', tag.replace(/_/g, '+'), '--destination', dest, '--untar']
    const res = await helm.run(args)
    if (res.exitCode !== 0) throw new Error(`helm pull ${ref} failed: ${res.output}`)
    const [dir] = await readdir(dest)
    return {
      chartYaml: await readFile(path.join(dest, dir, 'Chart.yaml'), 'utf8'),
      output: res.output
    }
  } finally {
    await helm.cleanup()
  }
}

/** Every file below `root` (recursively), for scanning what a run left behind. */
export async function filesBelow(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile() && (await stat(p)).size < 50_000_000) out.push(p)
    }
  }
  await walk(root)
  return out
}

/** Manifest PUTs the gate accepted (what "something was pushed" means). */
export function manifestPuts(stack: Stack): number {
  return stack.ecr.registryRequests.filter(
    r => r.method === 'PUT' && /\/manifests\//.test(r.path) && r.status < 300
  ).length
}

/**
 * The bundled action on one Helm version, against the stack (read when a run starts, so a
 * describe block may pass a getter for a stack started in beforeAll), with one tool cache for
 * all runs of that version. Call it in a describe block: it registers the beforeAll.
 */
export function runOnHelm(
  stack: () => Stack,
  helmVersion: string,
  beforeAll: (fn: () => Promise<void>) => void
): ((
  workspace: string,
  inputs: Record<string, string>,
  extra?: RunActionOptions
) => Promise<RunActionResult>) & { toolCache: () => string } {
  let toolCache: string
  beforeAll(async () => {
    toolCache = await makeTempDir(`tc-${helmVersion.replace(/\./g, '')}`)
  })
  const run = (workspace: string, inputs: Record<string, string>, extra: RunActionOptions = {}) =>
    runAction({
      workspace,
      toolCache,
      env: stack().actionEnv,
      ...extra,
      inputs: { 'helm-version': helmVersion, 'helm-download-url': stack().mirror.url, ...inputs }
    })
  return Object.assign(run, { toolCache: () => toolCache })
}
