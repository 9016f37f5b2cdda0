import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { discoverCharts } from '../../src/chart/chart.js'
import { checkChartFiles } from '../../src/chart/chart-files.js'
import { checkPackagedChart, stagePackagedChart } from '../../src/chart/packaged.js'

/* <tmp>/outside.txt, <tmp>/ws (the workspace) with dist/app-0.1.0.tgz and a chart, <tmp>/work. */

let tmp: string
let ws: string
let archive: string
let work: string

beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'packaged-')))
  ws = path.join(tmp, 'ws')
  work = path.join(tmp, 'work')
  archive = path.join(ws, 'dist', 'app-0.1.0.tgz')
  await fs.mkdir(path.dirname(archive), { recursive: true })
  await fs.mkdir(work)
  await fs.writeFile(path.join(tmp, 'outside.txt'), 'AWS_SECRET_ACCESS_KEY=x\n')
  await fs.writeFile(archive, 'tgz bytes')
})
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true })
})

const check = () => checkPackagedChart(archive, ws, 'dist/app-0.1.0.tgz')

describe('a packaged chart and its .prov', () => {
  it('a .prov linked out of the workspace fails, naming the file and the rule', async () => {
    await fs.symlink(path.join(tmp, 'outside.txt'), `${archive}.prov`)
    await expect(check()).rejects.toThrow(
      `Chart "dist/app-0.1.0.tgz" file app-0.1.0.tgz.prov is a symbolic link to ${tmp}/outside.txt, outside the workspace (${ws}): nothing outside the workspace is published; copy the file into the workspace or remove the link.`
    )
  })

  it('a .prov hard-linked to an outside file fails', async () => {
    await fs.link(path.join(tmp, 'outside.txt'), `${archive}.prov`)
    await expect(check()).rejects.toThrow(
      'Chart "dist/app-0.1.0.tgz" file app-0.1.0.tgz.prov is a regular file with 2 hard links, which may be a file from outside the workspace: copy the file instead of hard-linking it (cp without -l).'
    )
  })

  it('a .prov linked into .git fails', async () => {
    await fs.mkdir(path.join(ws, '.git'))
    await fs.writeFile(path.join(ws, '.git', 'config'), '[http] extraheader = AUTHORIZATION: x\n')
    await fs.symlink('../.git/config', `${archive}.prov`)
    await expect(check()).rejects.toThrow(
      /file app-0\.1\.0\.tgz\.prov is a link to a file under \.git/
    )
  })

  it('a .prov that is a FIFO, and an archive that is a FIFO, fail', async () => {
    execFileSync('mkfifo', [`${archive}.prov`])
    await expect(check()).rejects.toThrow(/file app-0\.1\.0\.tgz\.prov is not a regular file/)
    await fs.rm(archive)
    execFileSync('mkfifo', [archive])
    await expect(check()).rejects.toThrow(/file app-0\.1\.0\.tgz is not a regular file/)
  })

  it('a .tgz input that is a FIFO is refused at discovery, before Helm reads it', async () => {
    await fs.rm(archive)
    execFileSync('mkfifo', [archive])
    await expect(discoverCharts(['dist/app-0.1.0.tgz'], ws)).rejects.toThrow(
      'Input "charts" entry "dist/app-0.1.0.tgz" is not a regular file: point it at a chart archive made by "helm package".'
    )
  })

  it('a hard-linked archive fails', async () => {
    await fs.link(archive, path.join(tmp, 'elsewhere.tgz'))
    await expect(check()).rejects.toThrow(
      /file app-0\.1\.0\.tgz is a regular file with 2 hard links/
    )
  })

  it('Helm pushes copies from the private directory: the archive, and a .prov inside the workspace (also through a link)', async () => {
    await fs.writeFile(path.join(ws, 'dist', 'signed.prov'), 'provenance\n')
    await fs.symlink('signed.prov', `${archive}.prov`)
    const staged = await stagePackagedChart(archive, ws, 'dist/app-0.1.0.tgz', work)
    expect(path.dirname(path.dirname(staged))).toBe(work)
    expect(path.basename(staged)).toBe('app-0.1.0.tgz')
    expect(await fs.readFile(staged, 'utf8')).toBe('tgz bytes')
    expect((await fs.lstat(`${staged}.prov`)).isFile()).toBe(true)
    expect(await fs.readFile(`${staged}.prov`, 'utf8')).toBe('provenance\n')
  })

  it('without a .prov, only the archive is copied', async () => {
    const staged = await stagePackagedChart(archive, ws, 'dist/app-0.1.0.tgz', work)
    expect(await fs.readdir(path.dirname(staged))).toEqual(['app-0.1.0.tgz'])
  })
})

describe('the chart walk refuses hard links', () => {
  it('a chart file with a second hard link fails, also behind a symbolic link', async () => {
    const chart = path.join(ws, 'charts', 'app')
    await fs.mkdir(path.join(chart, 'templates'), { recursive: true })
    await fs.writeFile(
      path.join(chart, 'Chart.yaml'),
      'apiVersion: v2\nname: app\nversion: 0.1.0\n'
    )
    await fs.link(path.join(tmp, 'outside.txt'), path.join(chart, 'templates', 'NOTES.txt'))
    await expect(checkChartFiles(chart, ws, 'charts/app')).rejects.toThrow(
      'Chart "charts/app" file templates/NOTES.txt is a regular file with 2 hard links, which may be a file from outside the workspace: copy the file instead of hard-linking it (cp without -l).'
    )
    await fs.rm(path.join(chart, 'templates', 'NOTES.txt'))
    await fs.link(path.join(tmp, 'outside.txt'), path.join(ws, 'shared.txt'))
    await fs.symlink('../../../shared.txt', path.join(chart, 'templates', 'NOTES.txt'))
    await expect(checkChartFiles(chart, ws, 'charts/app')).rejects.toThrow(
      /file templates\/NOTES\.txt is a symbolic link to .*shared\.txt, a regular file with 2 hard links/
    )
  })
})
