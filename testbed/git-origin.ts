/**
 * A chart in a git repository committed at a fixed time, and fresh shallow clones of it as
 * actions/checkout makes them: for the reproducibility tests (same commit, any runner).
 */
import { execFileSync } from 'node:child_process'
import { utimes } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from './paths.js'
import { makeChart } from './stack.js'

/** The commit time of every origin: 2023-11-14T22:13:20Z. */
export const COMMIT_TIME = 1700000000

/** git with a fixed identity and dates, and no user or system configuration. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_AUTHOR_DATE: `${COMMIT_TIME} +0000`,
      GIT_COMMITTER_DATE: `${COMMIT_TIME} +0000`
    }
  })
}

/** A git repository (the "origin") holding charts/<name>, committed at COMMIT_TIME. */
export async function originWith(
  name: string,
  extra?: (chartDir: string) => Promise<void>
): Promise<string> {
  const origin = await makeTempDir('origin')
  const chartDir = path.join(origin, 'charts', name)
  await makeChart(chartDir, { name, version: '0.1.0', appVersion: '1.0' })
  await extra?.(chartDir)
  git(origin, 'init', '-q')
  git(origin, 'add', '.')
  git(origin, 'commit', '-q', '-m', 'chart')
  return origin
}

/** A shallow clone as actions/checkout makes it; every file's mtime set to `mtime`. */
export async function cloneOf(origin: string, mtime: Date): Promise<string> {
  const parent = await makeTempDir('clone')
  git(parent, 'clone', '-q', '--depth', '1', `file://${origin}`, 'ws')
  const workspace = path.join(parent, 'ws')
  for (const file of git(workspace, 'ls-files').trim().split('\n')) {
    await utimes(path.join(workspace, file), mtime, mtime)
  }
  return workspace
}
