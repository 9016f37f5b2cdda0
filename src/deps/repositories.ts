import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { UserError } from '../errors.js'
import { userRepositoryConfig } from './helm-paths.js'
import { urlUserinfo, userinfoSecrets } from '../runtime/url-userinfo.js'

/*
 * Classic chart repositories (an index.yaml over HTTP(S)) for `helm dependency build/update`.
 * Helm's `dependency build` needs a repository definition for every URL a dependency names; a
 * job-private repositories.yaml gives it one: the user's own entries that the chart's
 * dependencies name (by URL, `@alias` or `alias:`; credentials and TLS files kept), and an entry
 * for every other URL. The user's file is read, never written. Its cache is private too.
 */

/** One entry of repositories.yaml (Helm's repo.Entry); other fields are kept as they are. */
interface RepoEntry {
  name: string
  url: string
  password?: string
  [field: string]: unknown
}

/** A repository URL as Helm compares them (urlutil.Equal: trailing slash and host case ignored). */
export function sameRepositoryUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u.trim())
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`
    } catch {
      return u.trim().replace(/\/+$/, '')
    }
  }
  return norm(a) === norm(b)
}

/** `@name` or `alias:name`: a repository the user added by name. */
export function repositoryAlias(repository: string): string | undefined {
  if (repository.startsWith('@')) return repository.slice(1)
  if (repository.startsWith('alias:')) return repository.slice('alias:'.length)
  return undefined
}

export function isClassicUrl(repository: string): boolean {
  return /^https?:\/\//i.test(repository)
}

/** The user's repositories.yaml entries (none when the file does not exist). */
async function userEntries(file: string): Promise<RepoEntry[]> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch {
    return []
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch {
    throw new UserError(
      `The Helm repository config ${file} is not valid YAML: fix or remove it (it is what "helm repo add" wrote).`
    )
  }
  const repositories = (doc as { repositories?: unknown } | null)?.repositories
  if (!Array.isArray(repositories)) return []
  return repositories.filter(
    (r): r is RepoEntry =>
      Boolean(r) &&
      typeof (r as RepoEntry).name === 'string' &&
      typeof (r as RepoEntry).url === 'string'
  )
}

/** The name an added repository gets: stable per URL, unlike any name `helm repo add` suggests. */
export function addedRepositoryName(url: string): string {
  return `helm-ecr-publish-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`
}

/** The job-private repository settings of one chart's dependency build. */
export interface PrivateRepositories {
  /** HELM_REPOSITORY_CONFIG, HELM_REPOSITORY_CACHE and HELM_CACHE_HOME for Helm. */
  env: Record<string, string>
  /** URLs the action added (not in the user's config). */
  added: string[]
}

/**
 * Writes `dir`/repositories.yaml (0600) for `repositories` (the dependencies' `repository`
 * fields) and makes `dir`/repository-cache. Passwords of the entries copied are masked.
 */
export async function privateRepositories(
  repositories: string[],
  dir: string,
  env: NodeJS.ProcessEnv = process.env
): Promise<PrivateRepositories> {
  const user = await userEntries(userRepositoryConfig(env))
  const entries: RepoEntry[] = []
  const added: string[] = []
  const include = (entry: RepoEntry) => {
    if (entries.includes(entry)) return
    if (typeof entry.password === 'string' && entry.password !== '') core.setSecret(entry.password)
    // Helm prints the URL whole ("Unable to get an update from the "team" chart repository
    // (https://u:TOKEN@…)"): credentials written into it are masked too.
    const userinfo = urlUserinfo(entry.url)
    if (userinfo !== undefined) userinfoSecrets(userinfo).forEach(secret => core.setSecret(secret))
    entries.push(entry)
  }
  for (const repository of repositories) {
    const alias = repositoryAlias(repository)
    if (alias !== undefined) {
      const entry = user.find(e => e.name === alias)
      if (entry) include(entry)
      continue // Helm names the missing alias itself
    }
    if (!isClassicUrl(repository)) continue
    const entry = user.find(e => sameRepositoryUrl(e.url, repository))
    if (entry) include(entry)
    else if (!added.some(url => sameRepositoryUrl(url, repository))) {
      added.push(repository)
      entries.push({ name: addedRepositoryName(repository), url: repository })
    }
  }
  const config = path.join(dir, 'repositories.yaml')
  // Helm 3.9 refreshes indexes into HELM_CACHE_HOME/repository whatever HELM_REPOSITORY_CACHE
  // says, and reads them from HELM_REPOSITORY_CACHE: both name one private directory.
  const cacheHome = path.join(dir, 'helm-cache')
  const cache = path.join(cacheHome, 'repository')
  await fs.mkdir(cache, { recursive: true, mode: 0o700 })
  const text = stringify({
    apiVersion: '',
    generated: '0001-01-01T00:00:00Z',
    repositories: entries
  })
  await fs.writeFile(config, text, { mode: 0o600 })
  return {
    env: {
      HELM_REPOSITORY_CONFIG: config,
      HELM_REPOSITORY_CACHE: cache,
      HELM_CACHE_HOME: cacheHome
    },
    added
  }
}
