import { describe, expect, it, test } from 'vitest'
import { UserError } from '../src/errors.js'
import { helmArchiveName, helmPlatform } from '../src/system.js'

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
    expect(helmPlatform(platform, arch)).toEqual({ os, arch: helmArch, extension, executable })
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
