import { UserError } from '../errors.js'

/**
 * Helm's archive naming for a platform: `helm-vX.Y.Z-<os>-<arch>.<ext>`, holding
 * `<os>-<arch>/<executable>` (helm/helm's Makefile: build-cross and dist).
 */
export interface HelmPlatform {
  os: 'linux' | 'darwin' | 'windows'
  arch: string
  extension: 'tar.gz' | 'zip'
  executable: 'helm' | 'helm.exe'
  /** The architecture the runner's tool cache files Helm under: Node's name (`x64`, `arm64`). */
  cacheArch: string
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
    executable: windows ? 'helm.exe' : 'helm',
    cacheArch: arch
  }
}

export function helmArchiveName(version: string, p: HelmPlatform): string {
  return `helm-${version}-${p.os}-${p.arch}.${p.extension}`
}

/** Where the executable sits inside the archive (always `/`, as in tar and zip entry names). */
export function helmArchiveEntry(p: HelmPlatform): string {
  return `${p.os}-${p.arch}/${p.executable}`
}
