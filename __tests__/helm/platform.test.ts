import { describe, expect, it, test } from 'vitest'
import { UserError } from '../../src/errors.js'
import * as path from 'node:path'
import { helmArchiveEntry, helmArchiveName, helmPlatform } from '../../src/helm/platform.js'
import { isInside } from '../../src/runtime/paths.js'
import release from '../fixtures/helm-release-archives.json' with { type: 'json' }

describe('helmPlatform', () => {
  test.each([
    ['linux', 'x64', 'linux', 'amd64', 'tar.gz', 'helm'],
    ['linux', 'arm64', 'linux', 'arm64', 'tar.gz', 'helm'],
    ['linux', 'arm', 'linux', 'arm', 'tar.gz', 'helm'],
    ['linux', 'ia32', 'linux', '386', 'tar.gz', 'helm'],
    ['linux', 'ppc64', 'linux', 'ppc64le', 'tar.gz', 'helm'],
    ['linux', 's390x', 'linux', 's390x', 'tar.gz', 'helm'],
    ['linux', 'riscv64', 'linux', 'riscv64', 'tar.gz', 'helm'],
    ['darwin', 'x64', 'darwin', 'amd64', 'tar.gz', 'helm'],
    ['darwin', 'arm64', 'darwin', 'arm64', 'tar.gz', 'helm'],
    ['win32', 'x64', 'windows', 'amd64', 'zip', 'helm.exe'],
    ['win32', 'arm64', 'windows', 'arm64', 'zip', 'helm.exe']
  ])('%s/%s -> %s-%s .%s %s', (platform, arch, os, helmArch, extension, executable) => {
    expect(helmPlatform(platform, arch)).toEqual({
      os,
      arch: helmArch,
      extension,
      executable,
      cacheArch: arch
    })
  })

  test.each([
    ['freebsd', 'x64'],
    ['aix', 'ppc64'],
    ['sunos', 'x64'],
    ['linux', 'mips'],
    ['darwin', 'mipsel']
  ])('%s/%s is unsupported', (platform, arch) => {
    expect(() => helmPlatform(platform, arch)).toThrow(
      new UserError(
        `Helm publishes no build for ${platform}/${arch}: run this action on Linux, macOS or Windows, on one of these architectures: x64, arm64, arm, ia32, ppc64, s390x, riscv64, loong64.`
      )
    )
  })

  it('defaults to this machine', () => {
    expect(helmPlatform()).toEqual(helmPlatform(process.platform, process.arch))
  })
})

describe('helmArchiveName', () => {
  test.each([
    ['v3.18.0', 'linux', 'x64', 'helm-v3.18.0-linux-amd64.tar.gz'],
    ['v4.1.4', 'darwin', 'arm64', 'helm-v4.1.4-darwin-arm64.tar.gz'],
    ['v3.9.4', 'win32', 'x64', 'helm-v3.9.4-windows-amd64.zip'],
    ['v4.1.4', 'win32', 'arm64', 'helm-v4.1.4-windows-arm64.zip']
  ])('%s on %s/%s -> %s', (version, platform, arch, name) => {
    expect(helmArchiveName(version, helmPlatform(platform, arch))).toBe(name)
  })
})

// Recorded facts about Helm's release archives (see the fixture's "source"): every build this
// action picks for a runner is one get.helm.sh serves, and holds the executable where we look.
describe('Helm v4.1.4 release archives', () => {
  const archives = release.archives as Record<string, string[]>
  /** Every Node platform/arch pair the action maps to a Helm build. */
  const RUNNERS: [string, string][] = [
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['linux', 'arm'],
    ['linux', 'ia32'],
    ['linux', 'ppc64'],
    ['linux', 's390x'],
    ['linux', 'riscv64'],
    ['linux', 'loong64'],
    ['darwin', 'x64'],
    ['darwin', 'arm64'],
    ['win32', 'x64'],
    ['win32', 'arm64']
  ]
  test.each(RUNNERS)('%s/%s: served, with the executable inside', (platform, arch) => {
    const p = helmPlatform(platform, arch)
    const name = helmArchiveName(release.version, p)
    expect(release.served).toContain(name)
    expect(release.served).toContain(`${name}.sha256sum`)
    expect(archives[name]).toContain(helmArchiveEntry(p))
  })

  it('covers every archive Helm publishes', () => {
    const ours = new Set(
      RUNNERS.map(([platform, arch]) =>
        helmArchiveName(release.version, helmPlatform(platform, arch))
      )
    )
    expect(Object.keys(archives).sort()).toEqual([...ours].sort())
  })

  test.each([
    ['win32', 'x64', 'windows-amd64/helm.exe'],
    ['win32', 'arm64', 'windows-arm64/helm.exe'],
    ['darwin', 'arm64', 'darwin-arm64/helm'],
    ['linux', 'x64', 'linux-amd64/helm']
  ])('%s/%s: the executable is %s in the archive', (platform, arch, entry) => {
    expect(helmArchiveEntry(helmPlatform(platform, arch))).toBe(entry)
  })
})

describe('isInside', () => {
  test.each([
    ['/home/runner/work/repo', '/home/runner/work/repo', true],
    ['/home/runner/work/repo', '/home/runner/work/repo/charts/el-testo', true],
    ['/home/runner/work/repo', '/home/runner/work/repo/..charts', true],
    ['/home/runner/work/repo', '/home/runner/work/repo2/charts', false],
    ['/home/runner/work/repo', '/home/runner/work', false],
    ['/home/runner/work/repo', '/etc/passwd', false]
  ])('posix: %s contains %s: %s', (root, target, inside) => {
    expect(isInside(root, target, path.posix)).toBe(inside)
  })

  // GitHub's Windows runners check out to D:\a\<repo>\<repo>; paths there use \ and drive letters.
  test.each([
    ['D:\\a\\repo\\repo', 'D:\\a\\repo\\repo\\charts\\el-testo', true],
    ['D:\\a\\repo\\repo', 'd:\\A\\REPO\\repo\\charts', true],
    ['D:\\a\\repo\\repo', 'D:\\a\\repo\\repo\\..charts', true],
    ['D:\\a\\repo\\repo', 'D:\\a\\repo\\other', false],
    ['D:\\a\\repo\\repo', 'C:\\a\\repo\\repo\\charts', false],
    ['D:\\a\\repo\\repo', '\\\\server\\share\\charts', false]
  ])('win32: %s contains %s: %s', (root, target, inside) => {
    expect(isInside(root, target, path.win32)).toBe(inside)
  })
})
