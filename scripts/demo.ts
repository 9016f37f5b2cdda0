/**
 * npm run demo: the bundled action (dist/) publishes the charts in examples/ to a local ECR
 * (emulated API + real distribution registry) with Helm 4 from a local get.helm.sh mirror, run
 * exactly as the GitHub runner runs it; then a separate Helm pulls el-testo back.
 */
import { TEMP_ROOT } from './lib/temp-root.js'
import { cp, readFile } from 'node:fs/promises'
import path from 'node:path'
import { HELM_VERSIONS } from '../testbed/helm-binaries.js'
import { REPO_ROOT } from '../testbed/paths.js'
import { ACTION_MAIN, ACTION_POST, actionNode, errorLines, runAction } from '../testbed/runner.js'
import { pullChart } from '../testbed/scenario.js'
import type { Stack } from '../testbed/stack.js'
import { snapshotDist } from './lib/dist-snapshot.js'
import { renderLog, summaryToText } from './lib/render.js'
import { withStack } from './lib/with-stack.js'

const HELM = HELM_VERSIONS.v4

function heading(title: string): void {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 72 - title.length))}`)
}

function indent(text: string, by = '  '): string {
  return text
    .trimEnd()
    .split('\n')
    .map(l => by + l)
    .join('\n')
}

interface ChartOutput {
  chart: string
  version: string
  ref: string
  digest: string
}

async function demo(stack: Stack): Promise<void> {
  // The workspace is a copy of examples/, so the run's Chart.lock and charts/ stay out of the repo.
  const workspace = path.join(TEMP_ROOT, 'workspace')
  await cp(path.join(REPO_ROOT, 'examples'), path.join(workspace, 'examples'), {
    recursive: true,
    filter: src => !/[/\\](charts|Chart\.lock)$/.test(path.relative(REPO_ROOT, src))
  })
  const inputs = {
    charts: 'examples/*',
    namespace: 'demo',
    'create-repository': 'true',
    'helm-version': '4',
    'helm-download-url': stack.mirror.url
  }
  heading('Inputs')
  console.log(
    indent(
      Object.entries(inputs)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')
    )
  )
  console.log(
    indent(
      `registry: ${stack.ecr.registryHost} (ECR emulator, region ${stack.ecr.region}, API ${stack.ecr.apiUrl})`
    )
  )

  // A copy of dist/, so a concurrent npm run package cannot pull files from under the run.
  const dist = await snapshotDist(path.join(REPO_ROOT, 'dist'), path.join(TEMP_ROOT, 'dist'))
  const result = await runAction({
    workspace,
    env: stack.actionEnv,
    inputs,
    wrapCommand: (command, args) => ({
      command,
      args: args.map(a => (a === ACTION_MAIN ? dist.main : a === ACTION_POST ? dist.post : a))
    })
  })
  const node = path.relative(REPO_ROOT, actionNode()) || actionNode()
  heading(
    `Action log (${node} dist/index.js, ${(result.durationMs / 1000).toFixed(1)} s with post)`
  )
  console.log(renderLog(result.stdout))
  if (result.stderr.trim()) console.log(indent(result.stderr, '  stderr: '))
  if (result.timedOut) throw new Error('the action timed out')
  if (result.exitCode !== 0) {
    const errors = errorLines(result.stdout)
    throw new Error(
      `the action failed (exit ${result.exitCode}): ${errors.join('; ') || 'no error line'}`
    )
  }

  heading('Outputs')
  const { ref, digest, repository } = result.outputs
  console.log(indent(`ref:        ${ref}\ndigest:     ${digest}\nrepository: ${repository}`))
  console.log(indent(`helm-version: ${result.outputs['helm-version']}`))
  const charts = JSON.parse(result.outputs.charts ?? '[]') as ChartOutput[]
  console.log(indent(`charts:\n${indent(JSON.stringify(charts, null, 2))}`))

  heading('Job summary')
  console.log(summaryToText(result.summary))

  heading('Post step')
  const post = result.post
  if (!post || post.exitCode !== 0) {
    throw new Error(`the post step failed: ${post?.stdout ?? 'did not run'}`)
  }
  console.log(renderLog(post.stdout) || '  (no output)')

  const testo = charts.find(c => c.chart === 'el-testo')
  if (!testo) throw new Error('the charts output has no el-testo')
  heading(`helm pull ${testo.ref} (a separate Helm ${HELM})`)
  const pulled = await pullChart(stack, HELM, testo.ref)
  console.log(indent(pulled.output.trim()))
  console.log('\n  Chart.yaml:')
  console.log(indent(pulled.chartYaml, '    '))
  if (!/^name: el-testo$/m.test(pulled.chartYaml)) throw new Error('pulled chart is not el-testo')

  const platformYaml = await readFile(
    path.join(workspace, 'examples/el-platform/Chart.yaml'),
    'utf8'
  )
  if (!platformYaml.includes('el-testo')) throw new Error('el-platform lost its dependency')
}

async function main(): Promise<number> {
  const started = Date.now()
  console.log('Starting the stack: test CA, docker-registry, ECR emulator, Helm mirror ...')
  return withStack('Demo', { helmVersions: [HELM] }, async stack => {
    await demo(stack)
    console.log(`\nDemo OK (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  })
}

process.exit(await main())
