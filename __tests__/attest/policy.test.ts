import { describe, expect, it } from 'vitest'
import {
  GITHUB_ACTIONS_ISSUER,
  SLSA_PREDICATE_TYPE,
  instanceOf,
  judge,
  type Facts
} from '../../src/attest/policy.js'
import { extensionText } from '../../src/attest/verify.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const expected = { serverUrl: 'https://github.com', repository: 'acme/charts', digest: DIGEST }
const good: Facts = {
  identity: 'https://github.com/acme/charts/.github/workflows/release.yml@refs/heads/main',
  issuer: GITHUB_ACTIONS_ISSUER,
  sourceRepository: 'https://github.com/acme/charts',
  payloadType: 'application/vnd.in-toto+json',
  statement: {
    predicateType: SLSA_PREDICATE_TYPE,
    subject: [{ name: 'r/acme/app', digest: { sha256: 'a'.repeat(64) } }]
  },
  tlogEntries: 1,
  timestamps: 1
}
const statement = (patch: object) => ({ ...good, statement: { ...good.statement, ...patch } })

describe('judge: the verification policy', () => {
  it.each<[string, Facts, RegExp | 'public-good' | 'github']>([
    ['this repository, public-good', good, 'public-good'],
    [
      "this repository, GitHub's instance (timestamp, no log)",
      { ...good, tlogEntries: 0 },
      'github'
    ],
    [
      'repository names compare case-insensitively',
      { ...good, identity: good.identity!.replace('acme/charts', 'Acme/Charts') },
      'public-good'
    ],
    [
      'another repository',
      {
        ...good,
        identity: 'https://github.com/evil/charts/.github/workflows/x.yml@refs/heads/main'
      },
      /^signed by https:\/\/github\.com\/evil\/charts/
    ],
    [
      'a repository whose name extends ours',
      { ...good, identity: 'https://github.com/acme/charts-evil/.github/workflows/x.yml@main' },
      /^signed by/
    ],
    [
      'our repository, not a workflow',
      { ...good, identity: 'https://github.com/acme/charts/blob/main/x' },
      /^signed by/
    ],
    [
      'another server',
      { ...good, identity: 'https://github.example/acme/charts/.github/workflows/x.yml@main' },
      /^signed by/
    ],
    [
      'no identity (a key, not a certificate)',
      { ...good, identity: undefined },
      /^signed by no identity/
    ],
    [
      'another issuer',
      { ...good, issuer: 'https://accounts.google.com' },
      /^issuer https:\/\/accounts\.google\.com/
    ],
    ['no issuer', { ...good, issuer: undefined }, /^issuer missing/],
    [
      "our reusable workflow, called from another repository's workflow",
      { ...good, sourceRepository: 'https://github.com/acme/other' },
      /^built from https:\/\/github\.com\/acme\/other, not https:\/\/github\.com\/acme\/charts$/
    ],
    [
      'a source repository whose name extends ours',
      { ...good, sourceRepository: 'https://github.com/acme/charts-evil' },
      /^built from/
    ],
    ['no source repository', { ...good, sourceRepository: undefined }, /^built from no repository/],
    [
      'source repository names compare case-insensitively',
      { ...good, sourceRepository: 'https://github.com/ACME/Charts' },
      'public-good'
    ],
    ['not in-toto', { ...good, payloadType: 'text/plain' }, /not in-toto/],
    [
      'another predicate type',
      statement({ predicateType: 'https://slsa.dev/provenance/v0.2' }),
      /predicate type/
    ],
    [
      'another digest (a replay of another version)',
      statement({ subject: [{ digest: { sha256: 'b'.repeat(64) } }] }),
      /subject is not sha256:a{64}/
    ],
    ['no subject', statement({ subject: undefined }), /subject is not/],
    [
      'a subject that is not a list',
      statement({ subject: { digest: { sha256: 'a'.repeat(64) } } }),
      /subject is not/
    ],
    [
      'GitHub instance without a timestamp',
      { ...good, tlogEntries: 0, timestamps: 0 },
      /no transparency-log entry or timestamp for github/
    ]
  ])('%s', (_label, facts, outcome) => {
    const verdict = judge(facts, expected)
    if (typeof outcome === 'string') expect(verdict).toEqual({ ok: true, instance: outcome })
    else {
      expect(verdict.ok).toBe(false)
      expect(verdict.ok ? '' : verdict.reason).toMatch(outcome)
    }
  })

  it('takes another issuer when told (GitHub Enterprise)', () => {
    const issuer = 'https://token.actions.example.ghe.com'
    expect(judge({ ...good, issuer }, { ...expected, issuer }).ok).toBe(true)
    expect(judge(good, { ...expected, issuer }).ok).toBe(false)
  })

  it("a reusable workflow of another repository signs this run's own provenance: its identity counts, built from this repository only", () => {
    const builderId = 'https://github.com/acme/platform/.github/workflows/publish.yml@refs/tags/v2'
    const reusable = {
      ...good,
      identity: 'https://github.com/acme/platform/.github/workflows/publish.yml@refs/tags/v2'
    }
    expect(judge(reusable, expected).ok).toBe(false)
    expect(judge(reusable, { ...expected, builderId }).ok).toBe(true)
    // The same reusable workflow run for another repository does not count.
    const forOther = { ...reusable, sourceRepository: 'https://github.com/acme/other' }
    expect(judge(forOther, { ...expected, builderId })).toEqual({
      ok: false,
      reason: 'built from https://github.com/acme/other, not https://github.com/acme/charts'
    })
    // Another workflow directory, or a builder id that is not a workflow file, adds nothing.
    const elsewhere = {
      ...good,
      identity: 'https://github.com/evil/x/.github/workflows/a.yml@main'
    }
    expect(judge(elsewhere, { ...expected, builderId }).ok).toBe(false)
    expect(
      judge(reusable, { ...expected, builderId: 'https://github.com/acme/platform/blob/x' }).ok
    ).toBe(false)
  })

  it.each([
    [{ tlogEntries: 1, timestamps: 0 }, 'public-good'],
    [{ tlogEntries: 0, timestamps: 1 }, 'github'],
    [{ tlogEntries: 0, timestamps: 0 }, 'github']
  ])('instanceOf(%o) = %s', (facts, instance) => {
    expect(instanceOf(facts)).toBe(instance)
  })
})

describe('extensionText', () => {
  const oid = '1.3.6.1.4.1.57264.1.12'
  const der = (text: string): Uint8Array => {
    const body = Buffer.from(text)
    const length =
      body.length < 128
        ? [body.length]
        : body.length < 256
          ? [0x81, body.length]
          : [0x82, body.length >> 8, body.length & 255]
    return Buffer.concat([Buffer.from([0x0c, ...length]), body])
  }
  const list = (value: Uint8Array) => [{ oid: { id: oid.split('.').map(Number) }, value }]
  it.each([20, 127, 128, 200, 300])('reads a UTF8String of %i bytes', n => {
    const text = `https://github.com/${'a'.repeat(n - 19)}`
    expect(extensionText(list(der(text)), oid)).toBe(text)
  })
  it('reads nothing from another extension, another type or a wrong length', () => {
    expect(extensionText(list(der('x')), '1.3.6.1.4.1.57264.1.1')).toBeUndefined()
    expect(extensionText(list(Buffer.from([0x13, 1, 0x41])), oid)).toBeUndefined()
    expect(extensionText(list(Buffer.from([0x0c, 5, 0x41])), oid)).toBeUndefined()
    expect(extensionText(undefined, oid)).toBeUndefined()
  })
})
