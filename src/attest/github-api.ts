import * as core from '@actions/core'
import { HttpClient } from '@actions/http-client'
import { USER_AGENT } from '../constants.js'
import { describe } from './signing.js'

/*
 * GitHub's attestations API: a copy of each bundle beside the registry's, best effort. The
 * registry copy is the one that must exist: a refusal (no `attestations: write`) warns once and
 * turns the API off for the rest of the run.
 */

export interface GitHubStoreOptions {
  /** Token for the API; no token, no GitHub copy. */
  token?: string
  /** `https://github.com` (GITHUB_SERVER_URL). */
  serverUrl: string
  /** `https://api.github.com` (GITHUB_API_URL). */
  apiUrl: string
  /** `OWNER/REPO` (GITHUB_REPOSITORY). */
  repository: string
}

export class GitHubAttestations {
  readonly #options: GitHubStoreOptions
  readonly #http = new HttpClient(USER_AGENT, [], { allowRetries: true, maxRetries: 2 })
  #off = false

  constructor(options: GitHubStoreOptions) {
    this.#options = options
  }

  /** Stores `bundle`; returns the attestation's URL, or undefined when GitHub has no copy. */
  async store(bundle: unknown, log: (line: string) => void): Promise<string | undefined> {
    const { token, apiUrl, serverUrl, repository } = this.#options
    if (!token || this.#off) return undefined
    try {
      const response = await this.#http.postJson<{ id?: number | string }>(
        `${apiUrl}/repos/${repository}/attestations`,
        { bundle },
        {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28'
        }
      )
      const id = response.result?.id
      if (typeof id !== 'number' && !/^\d+$/.test(String(id))) {
        throw new Error(`HTTP ${response.statusCode} without an attestation id`)
      }
      const url = `${serverUrl}/${repository}/attestations/${id}`
      log(`Stored in GitHub: ${url}`)
      return url
    } catch (error) {
      this.#off = true
      const status = (error as { statusCode?: number }).statusCode
      const refused = status === 401 || status === 403 || status === 404
      core.warning(
        `Attestations are stored in the registry only: GitHub's attestations API did not take them (${status ? `HTTP ${status}: ` : ''}${describe(error)}): ${refused ? 'add "permissions: attestations: write" to the job (and keep "github-token" its default) to also store them in GitHub.' : 'the registry copies are complete, and they are what "gh attestation verify --bundle-from-oci" and cosign read.'}`
      )
      return undefined
    }
  }
}
