/**
 * Issue 19: Helm's own provenance. Charts published with "signing-key" (a key made by the
 * machine's gpg) pull with `helm pull --verify --keyring` on real Helm 3.9.4 and 4.1.4, fail with
 * another key's keyring, stay reproducible (two clones, the dry run), and every unusable key is
 * refused in one line before anything is pushed.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gpgHome, type GpgHome } from '../../testbed/gpg.js'
import { helmCli } from '../../testbed/helm-cli.js'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { makeTempDir } from '../../testbed/paths.js'
import { cloneOf, originWith } from '../../testbed/git-origin.js'
import { errorLines } from '../../testbed/runner.js'
import { loggedInHelm, manifestPuts, runOnHelm, servedDigest } from '../../testbed/scenario.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'

const PASSPHRASE = 'e2e signing passphrase: do not log me'

let stack: Stack
let gpg: GpgHome
const keys = {} as Record<'main' | 'other' | 'protected', { fpr: string; keyring: string }>
let mainSecret: string
let protectedSecret: string

beforeAll(async () => {
  stack = await startStack({ helmVersions: Object.values(HELM_VERSIONS) })
  gpg = await gpgHome()
  const keyringDir = await makeTempDir('keyrings')
  const make = async (name: keyof typeof keys, passphrase?: string) => {
    const fpr = gpg.generate({
      uid: `CI ${name} <${name}@example.com>`,
      algo: 'rsa2048',
      passphrase
    })
    keys[name] = {
      fpr,
      keyring: await gpg.exportKeyring(fpr, path.join(keyringDir, `${name}.gpg`))
    }
    return fpr
  }
  mainSecret = gpg.exportSecret(await make('main'))
  await make('other')
  protectedSecret = gpg.exportSecret(await make('protected', PASSPHRASE), PASSPHRASE)
}, 120_000)
afterAll(async () => {
  await gpg?.cleanup()
  await stack?.stop()
})

/** `helm pull --verify --keyring` (and `helm template --verify`) with a separate Helm. */
async function verifyWith(helmVersion: string, ref: string, keyring: string) {
  const helm = await loggedInHelm(stack, helmVersion)
  try {
    const [, repo, tag] = /^(oci:\/\/.+):([^:/]+)$/.exec(ref) ?? []
    const version = tag.replace(/_/g, '+')
    const dest = path.join(helm.home, 'pulled')
    await mkdir(dest)
    const pull = await helm.run([
      'pull',
      repo,
      '--version',
      version,
      '--destination',
      dest,
      '--verify',
      '--keyring',
      keyring
    ])
    const template = await helm.run([
      'template',
      'r',
      repo,
      '--version',
      version,
      '--verify',
      '--keyring',
      keyring
    ])
    return { pull, template, files: await readdir(dest) }
  } finally {
    await helm.cleanup()
  }
}

describe.each([HELM_VERSIONS.v3_9, HELM_VERSIONS.v4])('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')
  const run = runOnHelm(() => stack, helmVersion, beforeAll)

  it('signs: the dry run, the push and a second clone give one digest; helm verifies it with this key only', async () => {
    const chart = `signed-${short}`
    const origin = await originWith(chart)
    const first = await cloneOf(origin, new Date('2024-01-01T00:00:00Z'))
    const inputs = {
      charts: `charts/${chart}`,
      'create-repository': 'true',
      'signing-key': mainSecret
    }
    const dry = await run(first, { ...inputs, namespace: 'one', 'dry-run': 'true' })
    expect(errorLines(dry.stdout), dry.stdout).toEqual([])
    const real = await run(first, { ...inputs, namespace: 'one' })
    expect(errorLines(real.stdout), real.stdout).toEqual([])
    const second = await run(await cloneOf(origin, new Date('2025-06-30T12:00:00Z')), {
      ...inputs,
      namespace: 'two'
    })
    expect(errorLines(second.stdout)).toEqual([])
    expect(real.outputs.pushed).toBe('true')
    expect(real.outputs.digest).toBe(dry.outputs.digest)
    expect(second.outputs.digest).toBe(real.outputs.digest)
    expect(await servedDigest(stack, `two/${chart}`, '0.1.0')).toBe(real.outputs.digest)
    expect(real.outputs['signing-key-fingerprint']).toBe(keys.main.fpr)
    expect(JSON.parse(real.outputs.charts)[0]).toMatchObject({ chart, signed: true })
    expect(JSON.parse(dry.outputs.charts)[0]).toMatchObject({ signed: true })
    expect(real.stdout).toContain(
      `Signing charts with OpenPGP key ${keys.main.fpr} (CI main <main@example.com>), rsa2048`
    )
    expect(real.summary).toContain(`--version 0.1.0 --verify --keyring pubring.gpg`)
    expect(real.summary).toContain('verify     = true')
    expect(real.summary).toContain('keyring    = "${path.module}/pubring.gpg"')
    expect(real.summary).toContain(`gpg --export ${keys.main.fpr} &gt; pubring.gpg`)

    const ok = await verifyWith(helmVersion, real.outputs.ref, keys.main.keyring)
    expect(ok.pull.exitCode, ok.pull.output).toBe(0)
    expect(ok.pull.output).toContain('Signed by: CI main <main@example.com>')
    expect(ok.files).toEqual([`${chart}-0.1.0.tgz`, `${chart}-0.1.0.tgz.prov`])
    expect(ok.template.exitCode, ok.template.output).toBe(0)
    expect(ok.template.stdout).toContain('kind: ')

    const other = await verifyWith(helmVersion, real.outputs.ref, keys.other.keyring)
    expect(other.pull.exitCode).not.toBe(0)
    expect(other.pull.output).toContain('openpgp: signature made by unknown entity')
    expect(other.template.exitCode).not.toBe(0)
  })
})

describe('Helm 4.1.4', () => {
  const helmVersion = HELM_VERSIONS.v4
  const run = runOnHelm(() => stack, helmVersion, beforeAll)

  it('a version with build metadata (+ in the version, _ in the tag) verifies on Helm 3.9.4 and 4.1.4', async () => {
    const workspace = await cloneOf(await originWith('built'), new Date())
    const result = await run(workspace, {
      charts: 'charts/built',
      namespace: 'plus',
      version: '0.2.0+build.7',
      'create-repository': 'true',
      'signing-key': mainSecret
    })
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.outputs.ref).toMatch(/:0\.2\.0_build\.7$/)
    for (const version of [HELM_VERSIONS.v3_9, HELM_VERSIONS.v4]) {
      const verified = await verifyWith(version, result.outputs.ref, keys.main.keyring)
      expect(verified.pull.exitCode, verified.pull.output).toBe(0)
    }
  })

  it('a passphrase-protected key signs with the right passphrase', async () => {
    const workspace = await cloneOf(await originWith('guarded'), new Date())
    const result = await run(workspace, {
      charts: 'charts/guarded',
      namespace: 'prot',
      'create-repository': 'true',
      'signing-key': protectedSecret,
      'signing-passphrase': PASSPHRASE
    })
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.outputs['signing-key-fingerprint']).toBe(keys.protected.fpr)
    const verified = await verifyWith(helmVersion, result.outputs.ref, keys.protected.keyring)
    expect(verified.pull.exitCode, verified.pull.output).toBe(0)
  })

  it('skip-existing: the same content published unsigned is skipped and stays unsigned', async () => {
    const workspace = await cloneOf(await originWith('plain'), new Date())
    const inputs = { charts: 'charts/plain', namespace: 'late', 'create-repository': 'true' }
    const unsigned = await run(workspace, inputs)
    expect(unsigned.outputs.pushed).toBe('true')
    expect(JSON.parse(unsigned.outputs.charts)[0].signed).toBe(false)
    const signed = await run(workspace, {
      ...inputs,
      'skip-existing': 'true',
      'signing-key': mainSecret
    })
    expect(errorLines(signed.stdout), signed.stdout).toEqual([])
    expect(signed.outputs.pushed).toBe('false')
    expect(signed.outputs.digest).toBe(unsigned.outputs.digest)
    expect(JSON.parse(signed.outputs.charts)[0].signed).toBe(false)
    expect(signed.stdout).toContain(
      'skipped because skip-existing is set; it stays unsigned (it was published without provenance)'
    )
  })

  it('a packaged .tgz is signed; one with its own .prov is pushed with that file', async () => {
    const workspace = await makeTempDir('packaged')
    const helm = await helmCli(helmVersion)
    try {
      for (const name of ['bare', 'provd']) {
        await makeChart(path.join(helm.home, name), { name, version: '0.1.0' })
        const res = await helm.run(['package', path.join(helm.home, name), '-d', workspace])
        expect(res.exitCode, res.output).toBe(0)
      }
    } finally {
      await helm.cleanup()
    }
    const theirs = path.join(workspace, 'provd-0.1.0.tgz.prov')
    // A copy of the signature the action makes for "bare" would not match "provd": any file is
    // pushed as it is, and Helm's verification of it is the author's business.
    await writeFile(theirs, 'their own provenance\n')
    const result = await run(workspace, {
      charts: 'bare-0.1.0.tgz\nprovd-0.1.0.tgz',
      namespace: 'pkg',
      'create-repository': 'true',
      'signing-key': mainSecret
    })
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(JSON.parse(result.outputs.charts).map((c: { signed: boolean }) => c.signed)).toEqual([
      true,
      true
    ])
    expect(await readdir(workspace)).toEqual([
      'bare-0.1.0.tgz',
      'provd-0.1.0.tgz',
      'provd-0.1.0.tgz.prov'
    ])
    const bare = await verifyWith(
      helmVersion,
      `oci://${stack.ecr.registryHost}/pkg/bare:0.1.0`,
      keys.main.keyring
    )
    expect(bare.pull.exitCode, bare.pull.output).toBe(0)
    const copy = path.join(await makeTempDir('prov'), 'pulled.prov')
    const pulled = await loggedInHelm(stack, helmVersion)
    try {
      const dest = path.join(pulled.home, 'p')
      await mkdir(dest)
      const res = await pulled.run([
        'pull',
        `oci://${stack.ecr.registryHost}/pkg/provd`,
        '--version',
        '0.1.0',
        '--prov',
        '-d',
        dest
      ])
      expect(res.exitCode, res.output).toBe(0)
      await copyFile(path.join(dest, 'provd-0.1.0.tgz.prov'), copy)
    } finally {
      await pulled.cleanup()
    }
    expect(await readFile(copy, 'utf8')).toBe('their own provenance\n')
  })
})

describe('refused in one line, before anything is pushed', () => {
  const run = runOnHelm(() => stack, HELM_VERSIONS.v4, beforeAll)
  let workspace: string
  beforeAll(async () => {
    workspace = await cloneOf(await originWith('refused'), new Date())
  })

  type Inputs = Record<string, string>
  const refusals: [string, () => Inputs | Promise<Inputs>, RegExp][] = [
    [
      'garbage',
      () => ({ 'signing-key': 'not a key' }),
      /^Input "signing-key" is not an ASCII-armored OpenPGP secret key: /
    ],
    [
      'a public key',
      () => ({ 'signing-key': gpg.exportPublicArmored(keys.main.fpr) }),
      /^Input "signing-key" is a public key: /
    ],
    [
      'a protected key without a passphrase',
      () => ({ 'signing-key': protectedSecret }),
      /^Input "signing-key" is protected by a passphrase and "signing-passphrase" is empty/
    ],
    [
      'a wrong passphrase',
      () => ({ 'signing-key': protectedSecret, 'signing-passphrase': 'wrong' }),
      /^Input "signing-passphrase" does not unlock "signing-key"/
    ],
    [
      'an expired key',
      () => {
        const fpr = gpg.generate({
          uid: 'Old <old@example.com>',
          algo: 'rsa2048',
          expire: '1d',
          madeAt: '20200101T000000'
        })
        return { 'signing-key': gpg.exportSecret(fpr) }
      },
      /^Input "signing-key" \([0-9A-F]{40}\) expired on 2020-01-02: /
    ],
    [
      'a revoked key',
      async () => {
        const fpr = gpg.generate({ uid: 'Gone <gone@example.com>', algo: 'rsa2048' })
        await gpg.revoke(fpr)
        return { 'signing-key': gpg.exportSecret(fpr) }
      },
      /^Input "signing-key" \([0-9A-F]{40}\) is revoked: /
    ],
    [
      'a key that cannot sign',
      () => {
        const fpr = gpg.generate({ uid: 'Cert <cert@example.com>', algo: 'rsa2048', usage: 'cert' })
        return { 'signing-key': gpg.exportSecret(fpr) }
      },
      /^Input "signing-key" \([0-9A-F]{40}\) has no key that can sign now /
    ],
    [
      'a passphrase without a key',
      () => ({ 'signing-passphrase': PASSPHRASE }),
      /^Input "signing-passphrase" is set but "signing-key" is empty/
    ],
    [
      'Helm 3.18.0',
      () => ({ 'signing-key': mainSecret, 'helm-version': HELM_VERSIONS.v3_18 }),
      /^Input "signing-key" cannot be used with Helm 3\.18\.0: .*helm\/helm#30890.*3\.18\.1 or later/
    ]
  ]

  it.each(refusals)('%s', async (_name, inputsOf, message) => {
    const inputs = await inputsOf()
    const before = manifestPuts(stack)
    const requests = stack.ecr.registryRequests.length
    const result = await run(workspace, {
      charts: 'charts/refused',
      namespace: 'refused',
      'create-repository': 'true',
      ...inputs
    })
    expect(result.exitCode).toBe(1)
    const errors = errorLines(result.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(message)
    expect(manifestPuts(stack)).toBe(before)
    expect(stack.ecr.registryRequests.length).toBe(requests)
    // Only the runner's mask command (which the runner consumes) carries the passphrase.
    const visible = result.stdout.split('\n').filter(l => !l.startsWith('::add-mask::'))
    expect(visible.join('\n')).not.toContain(PASSPHRASE)
  })
})
