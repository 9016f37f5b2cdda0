import { UserError, oneLine } from '../errors.js'
import { parseRegistryHost } from '../registry/registry-host.js'
import type { DeclaredDependency } from '../chart/declared-dependencies.js'
import { isClassicUrl, repositoryAlias } from './repositories.js'
import type { HelmCommandError } from '../helm/helm-output.js'

/* One line for a dependency Helm could not fetch: the chart, the dependency, the repository,
   the cause and its fix; Helm's own words follow in parentheses. */

/** Which dependency a failure is about: the one whose repository (or name) Helm's text names. */
export function blamedDependency(
  output: string,
  deps: DeclaredDependency[]
): DeclaredDependency | undefined {
  const remote = deps.filter(d => !d.repository.startsWith('file://'))
  const strip = (r: string) => r.replace(/^oci:\/\//, '').replace(/\/+$/, '')
  const byRepository = remote
    .filter(d => d.repository !== '' && output.includes(strip(d.repository)))
    .sort((a, b) => b.repository.length - a.repository.length)[0]
  if (byRepository) return byRepository
  const alias = remote.find(d => {
    const name = repositoryAlias(d.repository)
    return name !== undefined && output.includes(name)
  })
  if (alias) return alias
  const byName = remote.find(d => new RegExp(`["/ ]${d.name}["\\s:-]`).test(output))
  return byName ?? (remote.length === 1 ? remote[0] : undefined)
}

function hostOf(repository: string): string {
  return repository.replace(/^oci:\/\//, '').split('/')[0]
}

function isEcr(repository: string): boolean {
  try {
    return parseRegistryHost(hostOf(repository)).kind === 'ecr'
  } catch {
    return false
  }
}

/** The cause and its fix, from everything Helm printed. */
export function dependencyCause(output: string, dep: DeclaredDependency | undefined): string {
  const repository = dep?.repository ?? ''
  if (/proxyconnect|Proxy Authentication Required/i.test(output)) {
    return 'the proxy refused the connection or could not be reached: check HTTPS_PROXY, HTTP_PROXY and NO_PROXY'
  }
  if (
    /x509:|certificate signed by unknown authority|tls: failed to verify|certificate is not valid/i.test(
      output
    )
  ) {
    return 'its TLS certificate is not trusted: give Helm the CA with the "ca-file" input or SSL_CERT_FILE'
  }
  if (
    /no repository definition for|no cached repository|repo .* not found/i.test(output) &&
    repositoryAlias(repository) !== undefined
  ) {
    return `no repository named "${repositoryAlias(repository)}" is configured: add it with "helm repo add ${repositoryAlias(repository)} URL" in an earlier step, or name the repository by its URL`
  }
  if (
    /\b40[13]\b|unauthorized|forbidden|denied|authentication required|basic credential not found|no basic auth credentials/i.test(
      output
    )
  ) {
    if (repository.startsWith('oci://') && isEcr(repository)) {
      return `the registry refused access (401/403): allow the job's role ecr:GetAuthorizationToken and pull (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer) on that repository, and the job's account in the repository's policy`
    }
    if (repository.startsWith('oci://')) {
      return `the registry refused access (401/403): log in to ${hostOf(repository)} in an earlier step ("helm registry login ${hostOf(repository)} --username … --password-stdin")`
    }
    return `the repository refused access (401/403): add it with credentials in an earlier step ("helm repo add NAME ${isClassicUrl(repository) ? repository : 'URL'} --username … --password-stdin") and name it by URL or @NAME`
  }
  if (
    /\b404\b|not found|no chart version found|can't get a valid version|no chart name found|manifest unknown|name unknown/i.test(
      output
    )
  ) {
    return `the chart or version was not found: check the dependency's name and version in Chart.yaml, and its repository URL`
  }
  if (
    /no such host|connection refused|i\/o timeout|dial tcp|network is unreachable/i.test(output)
  ) {
    return `the repository could not be reached: check its URL and the runner's network`
  }
  return 'Helm could not fetch it: check the dependency in Chart.yaml'
}

/** The one-line failure of `helm dependency build/update` for chart `chart` (its display name). */
export function explainDependencyFailure(
  error: HelmCommandError,
  chart: string,
  deps: DeclaredDependency[]
): UserError {
  const output = `${error.result.stderr}\n${error.result.stdout}`
  const dep = blamedDependency(output, deps)
  const which = dep
    ? `dependency ${dep.name} (${dep.repository || 'no repository'})`
    : `a dependency (${
        deps
          .filter(d => !d.repository.startsWith('file://'))
          .map(d => d.name)
          .join(', ') || 'file://'
      })`
  return new UserError(
    oneLine(
      `Chart "${chart}" ${which} could not be fetched: ${dependencyCause(output, dep)} (helm: ${error.reason})`
    )
  )
}
