/**
 * The report of `npm run bench`: the contender table, ratios against their targets, bundle size
 * and traces as plain text, and the same as Markdown for docs/benchmarks.md.
 */
import { readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as prettier from 'prettier'
import { REPO_ROOT } from '../../testbed/paths.js'
import { textTable } from '../lib/render.js'
import type { Knobs } from './context.js'
import { samplesOf, type Results } from './contender.js'
import { compactVersion, type Measurements } from './scenarios.js'
import type { BundleSize } from './startup.js'
import { traceLines, traceSentence } from './trace.js'
import { fmtBytes, fmtMs, median } from './util.js'

/** The targets, for the first Helm version of BENCH_HELM. */
const TARGETS = {
  /** 1 chart warm: the action (main + post step) / the shell pipeline. */
  oneChartVsShell: 0.5,
  /** 1 chart warm: the action (main + post step) / the floor (helm package + push, logged in). */
  oneChartVsFloor: 1.3,
  /** 1 chart warm: the post step alone. */
  postStepMs: 150,
  /** Many charts: the action / the shell pipeline in a loop. */
  manyVsShellLoop: 0.35,
  /** Many charts: the dry run / the real run (issue 11). */
  manyDryVsReal: 1.2,
  /** Many charts, nothing changed, skip-existing: the re-run / publishing new versions. */
  unchangedVsFresh: 0.3,
  /** Runner's Node: spawn to the first log line. */
  startupMs: 150,
  /** Runner's Node: the whole post step / `node -e 0`, measured beside it (issue 17). */
  postVsEmptyNode: 1.3
}

/** What the report says about the run itself. */
export interface RunInfo {
  knobs: Knobs
  /** The commit of the measured dist/ copy (see distCommit). */
  distAt: string
  /** The load average when the bench started. */
  loadAtStart: string
  /** Lines for the end of the report (e.g. skipped contenders). */
  notes: string[]
}

function medianOf(results: Results, key: string): number {
  const xs = samplesOf(results, key)
  return xs.length ? median(xs) : NaN
}

/** Scenario, contender, median, min, n: one row per table row, then startup per Node binary. */
function contenderTable(m: Measurements): string[][] {
  const installer = medianOf(m.results, 'cold-action') - medianOf(m.results, 'cold-warm')
  const table: string[][] = [['Scenario', 'Contender', 'Median', 'Min', 'n']]
  const figures = (xs: number[]) => [fmtMs(median(xs)), fmtMs(Math.min(...xs)), String(xs.length)]
  for (const r of m.rows) {
    if (r.key === 'cold-installer') table.push([r.scenario, r.contender, fmtMs(installer), '', ''])
    else table.push([r.scenario, r.contender, ...figures(samplesOf(m.results, r.key))])
  }
  for (const s of m.startup) {
    table.push(['startup: first log line', s.node, ...figures(s.actionMs)])
    table.push([
      'startup: first log line',
      `${s.node.replace(/ \(.*/, '')}: node -e console.log (floor)`,
      ...figures(s.floorMs)
    ])
    table.push(['startup: post step, spawn to exit', s.node, ...figures(s.postMs)])
    table.push([
      'startup: post step, spawn to exit',
      `${s.node.replace(/ \(.*/, '')}: node -e 0 (floor)`,
      ...figures(s.emptyMs)
    ])
  }
  return table
}

/** Comparison, ratio (or time), target, met/missed. */
function targetTable(m: Measurements, knobs: Knobs): string[][] {
  const med = (key: string) => medianOf(m.results, key)
  const rows: string[][] = [['Comparison', 'Ratio', 'Target', '']]
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed')
  const ratio = (label: string, a: number, b: number, target?: number) => {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return
    const r = a / b
    rows.push([
      label,
      `${r.toFixed(2)}×`,
      target === undefined ? '' : `≤ ${target}×`,
      target === undefined ? '' : verdict(r <= target)
    ])
  }
  const time = (label: string, ms: number, target?: { ms: number; text: string }) => {
    if (!Number.isFinite(ms)) return
    rows.push([label, fmtMs(ms), target?.text ?? '', target ? verdict(ms <= target.ms) : ''])
  }
  for (const helm of knobs.helms) {
    const v = compactVersion(helm)
    const first = helm === knobs.helms[0]
    const label = `1 chart warm, Helm ${helm}`
    ratio(
      `${label}: action / shell`,
      med(`action-${v}`),
      med(`shell-${v}`),
      first ? TARGETS.oneChartVsShell : undefined
    )
    time(
      `${label}: post step alone`,
      med(`action-${v}:post`),
      first ? { ms: TARGETS.postStepMs, text: `≤ ${TARGETS.postStepMs / 1000} s` } : undefined
    )
    ratio(
      `${label}: action / floor`,
      med(`action-${v}`),
      med(`floor-${v}`),
      first ? TARGETS.oneChartVsFloor : undefined
    )
    ratio(`${label}: action main step / shell`, med(`action-${v}:main`), med(`shell-${v}`))
    ratio(`${label}: action main step / floor`, med(`action-${v}:main`), med(`floor-${v}`))
  }
  const installer = med('cold-action') - med('cold-warm')
  ratio(`cold: installer part / curl + sha256sum + tar`, installer, med('cold-curl'))
  ratio(`cold: whole run, empty / warm tool cache`, med('cold-action'), med('cold-warm'))
  ratio(
    `${knobs.many} charts: action / shell loop`,
    med('many-action'),
    med('many-shell'),
    TARGETS.manyVsShellLoop
  )
  ratio(
    `${knobs.many} charts: dry run / real run`,
    med('many-dry'),
    med('many-action'),
    TARGETS.manyDryVsReal
  )
  ratio(
    `${knobs.many} charts, skip-existing: unchanged re-run / new versions`,
    med('rerun-same'),
    med('rerun-fresh'),
    TARGETS.unchangedVsFresh
  )
  const s0 = m.startup[0]
  if (s0) {
    time(`startup, ${s0.node}`, median(s0.actionMs), {
      ms: TARGETS.startupMs,
      text: `≤ ${TARGETS.startupMs} ms`
    })
    ratio(
      `post step / node -e 0, ${s0.node}`,
      median(s0.postMs),
      median(s0.emptyMs),
      TARGETS.postVsEmptyNode
    )
  }
  return rows
}

function sizeLines(size: BundleSize): string[] {
  const list = (files: { file: string; bytes: number }[]) =>
    files.map(f => `${f.file} ${fmtBytes(f.bytes)}`).join(', ')
  const total = (files: { bytes: number }[]) => fmtBytes(files.reduce((a, f) => a + f.bytes, 0))
  return [
    `dist/ on disk: ${fmtBytes(size.total)} in total`,
    `loaded before the first log line: ${total(size.startup)} (${list(size.startup)})`,
    `lazy chunks: ${total(size.lazy)} (${list(size.lazy)})`,
    `source maps ${fmtBytes(size.maps)}, post step ${fmtBytes(size.post)}, other (licenses, package.json) ${fmtBytes(size.other)}`
  ]
}

function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...body.map(r => `| ${r.map(c => c.replace(/\|/g, '\\|')).join(' | ')} |`)
  ].join('\n')
}

/** Prints the report and returns its Markdown (docs/benchmarks.md's bench section). */
export function report(m: Measurements, run: RunInfo): string {
  const table = contenderTable(m)
  const targets = targetTable(m, run.knobs)
  const size = sizeLines(m.size)
  const cpus = os.cpus()
  const machine = `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${os.release()}; load average ${run.loadAtStart} at the start`
  const date = new Date().toISOString().slice(0, 10)
  const env = ['BENCH_ITERATIONS', 'BENCH_HELM', 'BENCH_STARTUP_SAMPLES', 'BENCH_AWS', 'BENCH_ONLY']
    .filter(name => process.env[name])
    .map(name => `${name}=${process.env[name]} `)
    .join('')
  const command = `${env}npm run bench`

  // Plain text.
  console.log('\n══ npm run bench ═══════════════════════════════════════════════════════════')
  console.log(
    `  ${date}, dist/ of ${run.distAt}; ${machine}; ${run.knobs.iterations} iterations per contender, alternated, after one warm-up each`
  )
  console.log()
  console.log(textTable(table))
  console.log()
  console.log(textTable(targets))
  console.log()
  for (const l of size) console.log(`  ${l}`)
  for (const n of run.notes) console.log(`  note: ${n}`)
  for (const t of m.traces) console.log(traceLines(t).join('\n'))

  // Markdown.
  const markdown = [
    `Measured ${date} with \`${command}\` (dist/ of ${run.distAt}) on ${machine}: ${run.knobs.iterations} iterations per contender, alternated in one run after one warm-up each; medians. Local stack: ECR emulator (SigV4-checked API), Debian's docker-registry, a get.helm.sh-layout mirror on 127.0.0.1; the shell pipeline is [\`scripts/bench/publish.sh\`](../scripts/bench/publish.sh) with Debian's \`awscli\` (\`--endpoint-url\`), the same Helm binary for every contender, and a fresh Helm home per run.`,
    '',
    markdownTable(table),
    '',
    markdownTable(targets),
    '',
    ...size.map(l => `- ${l}`),
    ...run.notes.map(n => `- ${n}`),
    ...(m.traces[0]
      ? [
          '',
          `${traceSentence(m.traces[0])} The bench prints the full timelines (log lines, ECR calls and every Helm process it starts).`
        ]
      : []),
    '',
    'Knobs: `BENCH_ITERATIONS` (7), `BENCH_HELM` (`4.1.4,3.18.0`), `BENCH_ONLY` (`one,cold,many,rerun,startup,trace`), `BENCH_STARTUP_SAMPLES` (15), `BENCH_AWS` (`/usr/bin/aws`); `npm run bench -- --readme` rewrites this section.'
  ].join('\n')
  console.log('\n── Markdown (docs/benchmarks.md) ─────────────────────────────────────────────\n')
  console.log(markdown)
  return markdown
}

/** Replaces docs/benchmarks.md's <!-- bench:begin --> … <!-- bench:end --> section with `markdown`. */
export async function writeReadme(markdown: string): Promise<void> {
  const file = path.join(REPO_ROOT, 'docs', 'benchmarks.md')
  const text = await readFile(file, 'utf8')
  const re = /(<!-- bench:begin -->\n)[\s\S]*?(<!-- bench:end -->)/
  if (!re.test(text))
    throw new Error('docs/benchmarks.md has no <!-- bench:begin --> … <!-- bench:end --> section')
  const updated = text.replace(re, (_, a: string, b: string) => `${a}\n${markdown}\n\n${b}`)
  // Formatted as npm run lint expects (Prettier aligns the tables).
  const options = (await prettier.resolveConfig(file)) ?? {}
  await writeFile(file, await prettier.format(updated, { ...options, filepath: file }))
  console.log('\ndocs/benchmarks.md: bench section updated')
}
