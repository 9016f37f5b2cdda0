import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { HttpClient } from '@actions/http-client'
import { USER_AGENT } from '../constants.js'

/*
 * A Sigstore instance's trusted root, the way Sigstore clients get it: TUF (tuf-js) from the
 * instance's repository, starting from a root that is kept in the cache @sigstore/tuf uses
 * (XDG_DATA_HOME/sigstore-js/<host>). The public-good root comes embedded with @sigstore/tuf;
 * GitHub's repository starts from its signed 1.root.json over HTTPS, then TUF updates it. Every
 * download goes through @actions/http-client, so the job's proxy settings apply as everywhere.
 */

const TRUSTED_ROOT = 'trusted_root.json'
const SEEDED_MIRROR = 'https://tuf-repo-cdn.sigstore.dev'

/** The TUF cache directory of a mirror. */
export function tufCacheDir(mirror: string, env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  return path.join(dataHome, 'sigstore-js', encodeURIComponent(new URL(mirror).host))
}

/** The trusted root (its JSON) published by the TUF repository at `mirror`. */
export async function fetchTrustedRoot(mirror: string): Promise<unknown> {
  const [{ Updater, BaseFetcher }, { DownloadHTTPError }] = await Promise.all([
    import('tuf-js'),
    import('tuf-js/dist/error.js')
  ])
  const http = new HttpClient(USER_AGENT, [], {
    allowRetries: true,
    maxRetries: 1,
    keepAlive: true,
    socketTimeout: 5000
  })

  class HttpFetcher extends BaseFetcher {
    async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
      const res = await http.get(url)
      const status = res.message.statusCode ?? 0
      if (status !== 200) {
        res.message.resume()
        throw new DownloadHTTPError(`GET ${url}: HTTP ${status}`, status)
      }
      return Readable.toWeb(res.message) as ReadableStream<Uint8Array<ArrayBuffer>>
    }
  }
  const fetcher = new HttpFetcher()

  const dir = tufCacheDir(mirror)
  await mkdir(path.join(dir, 'targets'), { recursive: true })
  const rootFile = path.join(dir, 'root.json')
  if (!existsSync(rootFile)) {
    const seed =
      mirror === SEEDED_MIRROR
        ? Buffer.from(
            (
              (await import('@sigstore/tuf/seeds.json', { with: { type: 'json' } }))
                .default as Seeds
            )[mirror]['root.json'],
            'base64'
          )
        : await fetcher.downloadBytes(`${mirror}/1.root.json`, 512 * 1024)
    await writeFile(rootFile, seed, { mode: 0o600 })
  }
  const updater = new Updater({
    metadataBaseUrl: mirror,
    metadataDir: dir,
    targetBaseUrl: `${mirror}/targets`,
    targetDir: path.join(dir, 'targets'),
    fetcher
  })
  await updater.refresh()
  const info = await updater.getTargetInfo(TRUSTED_ROOT)
  if (!info) throw new Error(`${mirror} publishes no ${TRUSTED_ROOT}`)
  const file = (await updater.findCachedTarget(info)) ?? (await updater.downloadTarget(info))
  return JSON.parse(await readFile(file, 'utf8')) as unknown
}

type Seeds = Record<string, { 'root.json': string }>
