import { UserError } from './errors.js'

/** Helm's archive naming for a platform: `helm-vX.Y.Z-<os>-<arch>.<ext>`. */
export interface HelmPlatform {
  os: 'linux' | 'darwin' | 'windows'
  arch: string
  extension: 'tar.gz' | 'zip'
  executable: 'helm' | 'helm.exe'
}

const OS: Record<string, HelmPlatform['os']> = {
  linux: 'linux',
  darwin: 'darwin',
  win32: 'windows'
}

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64'
}

export function helmPlatform(
  platform: string = process.platform,
  arch: string = process.arch
): HelmPlatform {
  const os = OS[platform]
  const helmArch = ARCH[arch]
  if (!os || !helmArch) {
    throw new UserError(
      `Helm publishes no build for ${platform}/${arch}: run this action on Linux, macOS or Windows, on one of these architectures: ${Object.keys(ARCH).join(', ')}.`
    )
  }
  const windows = os === 'windows'
  return {
    os,
    arch: helmArch,
    extension: windows ? 'zip' : 'tar.gz',
    executable: windows ? 'helm.exe' : 'helm'
  }
}

export function helmArchiveName(version: string, p: HelmPlatform): string {
  return `helm-${version}-${p.os}-${p.arch}.${p.extension}`
}
