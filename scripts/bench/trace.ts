/**
 * Where a run's time goes: one action run with every stdout line time-stamped (lib/stamp-stdout.mjs)
 * and a helm wrapper that logs each Helm process, merged with the emulator's ECR API calls into
 * one timeline per step.
 */
import { TEMP_ROOT } from '../lib/temp-root.js'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { helmBinary } from '../../testbed/helm-binaries.js'
import { REPO_ROOT } from '../../testbed/paths.js'
import { cleanupRun } from '../../testbed/runner.js'
import { actionRun, type ActionRunOptions } from './action.js'
import type { BenchContext } from './context.js'
import { fmtMs, median } from './util.js'

const STAMP_MJS = path.join(REPO_ROOT, 'scripts', 'lib', 'stamp-stdout.mjs')

interface TraceEvent {
  at: number
  end?: number
  text: string
}

/** A tool cache whose helm is a wrapper that logs each Helm process (start, end, argv). */
async function tracingToolCache(helm: string, log: string): Promise<string> {
  const tc = await mkdtemp(path.join(TEMP_ROOT, 'tc-trace-'))
  const dir = path.join(tc, 'helm', helm, os.arch())
  await mkdir(dir, { recursive: true })
  const wrapper = [
    '#!/bin/bash',
    's=$EPOCHREALTIME',
    `${JSON.stringify(await helmBinary(helm))} "$@"`,
    'rc=$?',
    `printf '%s %s %s %s\\n' "$s" "$EPOCHREALTIME" "$rc" "$*" >> ${JSON.stringify(log)}`,
    'exit $rc',
    ''
  ].join('\n')
  await writeFile(path.join(dir, 'helm'), wrapper, { mode: 0o755 })
  await writeFile(`${dir}.complete`, '')
  return tc
}

function shortArgs(args: string, workspace: string): string {
  return args
    .split(' ')
    .map(a =>
      a.startsWith('/')
        ? a.startsWith(workspace)
          ? path.relative(workspace, a)
          : `…/${path.basename(a)}`
        : a
    )
    .join(' ')
}

/** A Helm process in ms since its step's Node started, with shortened arguments. */
interface HelmSpan {
  start: number
  end: number
  args: string
}

export interface Trace {
  title: string
  main: TraceEvent[]
  post: TraceEvent[]
  /** The main step's Helm processes. */
  helm: HelmSpan[]
  mainMs: number
  postMs: number
}

/**
 * The events of a step's stamped stdout, in ms since its Node started: log lines outside groups,
 * group titles, the exit; and the step's time origin (epoch ms).
 */
function stampedEvents(stdout: string): { origin: number; events: TraceEvent[] } {
  let origin = 0
  let inGroup = false
  const events: TraceEvent[] = []
  for (const line of stdout.split('\n')) {
    const m = /^\[(\d+(?:\.\d+)?)\] (.*)$/.exec(line)
    if (!m) continue
    const at = Number(m[1])
    const text = m[2]
    if (text.startsWith('::stamp::origin ')) origin = Number(text.slice(16))
    else if (text === '::stamp::exit') events.push({ at, text: 'process exits' })
    else if (text.startsWith('::endgroup::')) inGroup = false
    else if (text.startsWith('::group::')) {
      inGroup = true
      events.push({ at, text: `log group: ${text.slice(9)}` })
    } else if (!inGroup && !/^::(debug|add-mask)::/.test(text)) events.push({ at, text })
  }
  return { origin, events }
}

interface HelmProcess {
  startEpoch: number
  endEpoch: number
  args: string
}

/** The Helm processes the wrapper of tracingToolCache logged (epoch ms). */
function helmProcesses(log: string): HelmProcess[] {
  return log
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const [s, e, , ...args] = line.split(' ')
      return { startEpoch: Number(s) * 1000, endEpoch: Number(e) * 1000, args: args.join(' ') }
    })
}

/** Runs the action once with stamped stdout and a logging helm; returns a timeline. */
export async function traceRun(
  ctx: BenchContext,
  title: string,
  o: Omit<ActionRunOptions, 'toolCache' | 'wrap' | 'extraEnv'> & { cold?: boolean }
): Promise<Trace> {
  const helmLog = path.join(await mkdtemp(path.join(TEMP_ROOT, 'trace-')), 'helm.log')
  await writeFile(helmLog, '')
  // Cold: an empty tool cache (Helm is installed from the mirror, its processes are not timed).
  const toolCache = o.cold ? undefined : await tracingToolCache(o.helm, helmLog)
  const apiBefore = ctx.stack.ecr.apiCalls.length
  const { result } = await actionRun(ctx, `trace-${o.namespace}`, {
    ...o,
    toolCache,
    wrap: (command, args) => ({
      command,
      args: ['--import', pathToFileURL(STAMP_MJS).href, ...args]
    })
  })
  const main = stampedEvents(result.stdout)
  const post = stampedEvents(result.post?.stdout ?? '')
  const helm = helmProcesses(await readFile(helmLog, 'utf8'))
  // A Helm process belongs to the step that was running when it started.
  const inPost = (h: HelmProcess) => post.origin > 0 && h.startEpoch >= post.origin
  const rel =
    (origin: number) =>
    (h: HelmProcess): HelmSpan => ({
      start: h.startEpoch - origin,
      end: h.endEpoch - origin,
      args: shortArgs(h.args, o.workspace)
    })
  const asEvent = (h: HelmSpan): TraceEvent => ({
    at: h.start,
    end: h.end,
    text: `helm ${h.args}`
  })
  const api = ctx.stack.ecr.apiCalls.slice(apiBefore).map(c => ({
    at: c.at.getTime() - main.origin,
    text: `ECR API ${c.op} answered (${c.status})`
  }))
  const helmMain = helm.filter(h => !inPost(h)).map(rel(main.origin))
  const helmPost = helm.filter(inPost).map(rel(post.origin))
  const mainEvents = [
    { at: 0, text: 'node starts' },
    ...main.events,
    ...api,
    ...helmMain.map(asEvent)
  ].sort((a, b) => a.at - b.at)
  const postEvents = [
    { at: 0, text: 'node starts' },
    ...post.events,
    ...helmPost.map(asEvent)
  ].sort((a, b) => a.at - b.at)
  await cleanupRun(result)
  const exitOf = (events: TraceEvent[]) => events.find(e => e.text === 'process exits')?.at ?? 0
  return {
    title,
    main: mainEvents,
    post: postEvents,
    helm: helmMain,
    mainMs: exitOf(main.events),
    postMs: exitOf(post.events)
  }
}

function timelineLines(events: TraceEvent[], limit = 60): string[] {
  const shown =
    events.length > limit ? [...events.slice(0, limit - 8), ...events.slice(-8)] : events
  const lines: string[] = []
  for (const [i, e] of shown.entries()) {
    if (events.length > limit && i === limit - 8)
      lines.push(`    ${''.padStart(15)}  … ${events.length - limit} more`)
    const when =
      e.end === undefined ? `${Math.round(e.at)}` : `${Math.round(e.at)}–${Math.round(e.end)}`
    const dur = e.end === undefined ? '' : ` (${Math.round(e.end - e.at)} ms)`
    lines.push(`    ${when.padStart(11)} ms  ${e.text.slice(0, 110)}${dur}`)
  }
  return lines
}

function summarizeHelm(trace: Trace): string[] {
  const byCommand = new Map<string, number[]>()
  for (const h of trace.helm) {
    const cmd = h.args
      .split(' ')
      .slice(0, h.args.startsWith('registry') ? 2 : 1)
      .join(' ')
    byCommand.set(cmd, [...(byCommand.get(cmd) ?? []), h.end - h.start])
  }
  const lines = [...byCommand].map(
    ([cmd, ds]) =>
      `helm ${cmd}: ${ds.length}× median ${fmtMs(median(ds))}, total ${fmtMs(ds.reduce((a, b) => a + b, 0))}`
  )
  if (trace.helm.length) {
    const first = Math.min(...trace.helm.map(h => h.start))
    const last = Math.max(...trace.helm.map(h => h.end))
    lines.push(
      `before the first helm process: ${fmtMs(first)}; helm processes span ${fmtMs(last - first)}; after the last: ${fmtMs(trace.mainMs - last)} (main exits at ${fmtMs(trace.mainMs)})`
    )
  }
  return lines
}

/** The printed section of a trace: both steps' timelines and a summary of the Helm processes. */
export function traceLines(t: Trace): string[] {
  return [
    `\n── Where the time goes: one traced warm run, ${t.title} (ms since node started) ──`,
    '  main step:',
    ...timelineLines(t.main),
    '  post step:',
    ...timelineLines(t.post),
    ...summarizeHelm(t).map(l => `  ${l}`)
  ]
}

/** `helm push` 138 ms, ... for the Helm processes of a timeline. */
function helmDurations(events: TraceEvent[]): string[] {
  return events
    .filter(e => e.end !== undefined)
    .map(e => {
      const words = e.text.split(' ')
      const name = words.slice(0, words[1] === 'registry' ? 3 : 2).join(' ')
      return `\`${name}\` ${fmtMs((e.end as number) - e.at)}`
    })
}

/** One sentence on where a traced one-chart run spends its time (for the README). */
export function traceSentence(t: Trace): string {
  const at = (re: RegExp) => t.main.find(e => re.test(e.text))
  const firstLine = t.main.find(e => e.text !== 'node starts' && e.end === undefined)
  const token = at(/GetAuthorizationToken/)
  const postHelm = helmDurations(t.post)
  return [
    `One traced warm run (${t.title}): the main step takes ${fmtMs(t.mainMs)}`,
    `— Node start to the first log line ${fmtMs(firstLine?.at ?? NaN)},`,
    `ECR token answered at ${fmtMs(token?.at ?? NaN)},`,
    `${helmDurations(t.main).join(', ')};`,
    `the post step takes ${fmtMs(t.postMs)}${postHelm.length ? ` (${postHelm.join(', ')})` : ' and starts no Helm process'}.`
  ].join(' ')
}
