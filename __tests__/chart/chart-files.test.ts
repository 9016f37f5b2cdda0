import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkChartFiles, fileDependencyPath } from '../../src/chart/chart-files.js'
import { isInside } from '../../src/runtime/paths.js'
import { UserError } from '../../src/errors.js'

/* Real directories in a temp dir: <tmp>/outside.txt and <tmp>/ws/ (the workspace) with a chart. */

let tmp: string
let ws: string
let chart: string

async function write(file: string, text = 'x\n'): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, text)
}

beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'chart-files-')))
  ws = path.join(tmp, 'ws')
  chart = path.join(ws, 'charts', 'app')
  await write(path.join(tmp, 'outside.txt'), 'AWS_SECRET_ACCESS_KEY=x\n')
  await write(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: app\nversion: 0.1.0\n')
  await write(path.join(chart, 'templates', 'cm.yaml'), 'kind: ConfigMap\n')
})
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true })
})

const check = () => checkChartFiles(chart, ws, 'charts/app')

async function failure(): Promise<string> {
  const error = await check().then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(UserError)
  const message = (error as Error).message
  expect(message).not.toContain('\n')
  return message
}

describe('checkChartFiles', () => {
  it('accepts a plain chart', async () => {
    await expect(check()).resolves.toBeUndefined()
  })

  it('refuses a link to a file outside the workspace, naming the file and its target', async () => {
    await fs.symlink(path.join(tmp, 'outside.txt'), path.join(chart, 'templates', 'NOTES.txt'))
    expect(await failure()).toBe(
      `Chart "charts/app" file templates/NOTES.txt is a symbolic link to ${tmp}/outside.txt, outside the workspace (${ws}): nothing outside the workspace is published; copy the file into the workspace or remove the link.`
    )
  })

  it('refuses a relative link that climbs out of the workspace', async () => {
    await fs.symlink('../../../../outside.txt', path.join(chart, 'templates', 'NOTES.txt'))
    expect(await failure()).toContain('templates/NOTES.txt is a symbolic link to')
  })

  it('refuses /proc/self/environ', async () => {
    await fs.symlink('/proc/self/environ', path.join(chart, 'environ.txt'))
    expect(await failure()).toMatch(
      /file environ\.txt is a symbolic link to \/proc\/.*environ, outside/
    )
  })

  it('refuses a link to a directory outside the workspace', async () => {
    await fs.mkdir(path.join(tmp, 'elsewhere'))
    await fs.symlink(path.join(tmp, 'elsewhere'), path.join(chart, 'files'))
    expect(await failure()).toContain('file files is a symbolic link to')
  })

  it('refuses a dangling link', async () => {
    await fs.symlink('missing.yaml', path.join(chart, 'templates', 'gone.yaml'))
    expect(await failure()).toContain(
      'file templates/gone.yaml is a symbolic link to missing.yaml, which does not exist'
    )
  })

  it('refuses a FIFO', async () => {
    execFileSync('mkfifo', [path.join(chart, 'templates', 'pipe')])
    expect(await failure()).toBe(
      'Chart "charts/app" file templates/pipe is a named pipe (FIFO): Helm cannot package it; remove it from the chart directory.'
    )
  })

  it('refuses a socket', async () => {
    // A short socket path: sun_path is ~100 bytes.
    const server = net.createServer()
    const socket = path.join(chart, 's')
    await new Promise<void>(resolve => server.listen(socket, resolve))
    try {
      expect(await failure()).toContain('file s is a socket')
    } finally {
      server.close()
    }
  })

  it('refuses an in-workspace link to a FIFO', async () => {
    execFileSync('mkfifo', [path.join(ws, 'pipe')])
    await fs.symlink('../../pipe', path.join(chart, 'p'))
    expect(await failure()).toContain(
      `file p is a symbolic link to ${ws}/pipe, a named pipe (FIFO)`
    )
  })

  it('refuses a link to a device', async () => {
    await fs.symlink('/dev/null', path.join(chart, 'null'))
    // /dev is outside the workspace: that is the first reason.
    expect(await failure()).toContain('file null is a symbolic link to /dev/null, outside')
  })

  it('accepts links that stay inside the workspace, to files and directories', async () => {
    await write(path.join(ws, 'shared', 'helpers.tpl'), '{{- define "x" -}}{{- end -}}\n')
    await write(path.join(ws, 'shared', 'deeper', 'more.tpl'))
    await fs.symlink('../../../shared/helpers.tpl', path.join(chart, 'templates', '_helpers.tpl'))
    await fs.symlink('../../shared', path.join(chart, 'shared'))
    await expect(check()).resolves.toBeUndefined()
  })

  it('walks a linked directory: a bad file inside it fails the chart, named by the path Helm uses', async () => {
    await write(path.join(ws, 'shared', 'ok.tpl'))
    await fs.symlink(path.join(tmp, 'outside.txt'), path.join(ws, 'shared', 'creds'))
    await fs.symlink('../../shared', path.join(chart, 'shared'))
    expect(await failure()).toContain('file shared/creds is a symbolic link to')
  })

  it('refuses a link loop instead of walking forever', async () => {
    await fs.symlink('..', path.join(chart, 'templates', 'loop'))
    expect(await failure()).toContain(
      `file templates/loop is a symbolic link to ${chart}, a directory that contains it (a loop)`
    )
  })

  it('refuses a loop through two linked directories', async () => {
    await fs.mkdir(path.join(ws, 'x'))
    await fs.mkdir(path.join(ws, 'y'))
    await fs.symlink('../y', path.join(ws, 'x', 'to-y'))
    await fs.symlink('../x', path.join(ws, 'y', 'to-x'))
    await fs.symlink('../../x', path.join(chart, 'x'))
    expect(await failure()).toContain('file x/to-y/to-x is a symbolic link to')
  })

  it('checks a directory linked twice once (no loop)', async () => {
    await write(path.join(ws, 'shared', 'a.tpl'))
    await fs.symlink('../../shared', path.join(chart, 'one'))
    await fs.symlink('../../shared', path.join(chart, 'two'))
    await expect(check()).resolves.toBeUndefined()
  })

  it('does not honour .helmignore: an ignored link outside the workspace still fails', async () => {
    await write(path.join(chart, '.helmignore'), 'secret.txt\n')
    await fs.symlink(path.join(tmp, 'outside.txt'), path.join(chart, 'secret.txt'))
    expect(await failure()).toContain('file secret.txt is a symbolic link to')
  })

  describe('file:// dependencies', () => {
    const withDependency = (repository: string) =>
      write(
        path.join(chart, 'Chart.yaml'),
        `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: "${repository}"\n`
      )

    it('accepts one inside the workspace', async () => {
      await write(path.join(ws, 'charts', 'lib', 'Chart.yaml'), 'name: lib\nversion: 0.1.0\n')
      await withDependency('file://../lib')
      await expect(check()).resolves.toBeUndefined()
    })

    it('refuses one outside the workspace (relative and absolute)', async () => {
      await write(path.join(tmp, 'lib', 'Chart.yaml'), 'name: lib\nversion: 0.1.0\n')
      await withDependency('file://../../../lib')
      expect(await failure()).toBe(
        `Chart "charts/app" dependency file://../../../lib resolves to ${tmp}/lib, outside the workspace (${ws}): nothing outside the workspace is published; check the dependency out into the workspace or use a chart repository.`
      )
      await withDependency(`file://${tmp}/lib`)
      expect(await failure()).toContain(`dependency file://${tmp}/lib resolves to ${tmp}/lib`)
    })

    it('refuses an in-workspace path that is a link to outside', async () => {
      await write(path.join(tmp, 'lib', 'Chart.yaml'), 'name: lib\nversion: 0.1.0\n')
      await fs.symlink(path.join(tmp, 'lib'), path.join(ws, 'charts', 'lib'))
      await withDependency('file://../lib')
      expect(await failure()).toContain('resolves to')
    })

    it('walks the dependency: a link to outside inside it fails the chart', async () => {
      await write(path.join(ws, 'charts', 'lib', 'Chart.yaml'), 'name: lib\nversion: 0.1.0\n')
      await fs.symlink(path.join(tmp, 'outside.txt'), path.join(ws, 'charts', 'lib', 'leak.txt'))
      await withDependency('file://../lib')
      expect(await failure()).toContain('Chart "charts/lib" file leak.txt is a symbolic link to')
    })

    it('names a missing dependency directory', async () => {
      await withDependency('file://../nowhere')
      expect(await failure()).toContain('dependency file://../nowhere (Chart.yaml) does not exist')
    })

    it('refuses a path that climbs above the workspace and back in (the copy would read the original)', async () => {
      // From the private copy, Helm resolves these against the copy's own ancestors: climbing to
      // "/" and naming the workspace reads the original checkout, .git included.
      await write(path.join(ws, 'charts', 'lib', 'Chart.yaml'), 'name: lib\nversion: 0.1.0\n')
      const viaRoot = `file://${'../'.repeat(40)}${ws.slice(1)}/charts/lib`
      await withDependency(viaRoot)
      expect(await failure()).toBe(
        `Chart "charts/app" dependency ${viaRoot} (Chart.yaml) climbs above the workspace on its way to ${ws}/charts/lib: name it by a path that stays inside the workspace (file://../lib).`
      )
      await withDependency(`file://../../../ws/charts/lib`)
      expect(await failure()).toContain('climbs above the workspace')
    })

    it('refuses a requirements.yaml that sets more than dependencies (Helm reads it into Chart.yaml)', async () => {
      await write(
        path.join(chart, 'requirements.yaml'),
        'name: other\nversion: 9.9.9\ndependencies: []\n'
      )
      expect(await failure()).toBe(
        'charts/app/requirements.yaml sets "name", which Helm would read over Chart.yaml\'s: keep only "dependencies" in requirements.yaml.'
      )
    })

    it('leaves OCI and HTTP repositories alone', async () => {
      await withDependency('oci://registry.example.com/charts')
      await expect(check()).resolves.toBeUndefined()
    })
  })
})

describe('helpers', () => {
  it.each([
    ['/ws', '/ws', true],
    ['/ws/a', '/ws', true],
    ['/wsx', '/ws', false],
    ['/', '/ws', false],
    ['/ws/../etc', '/ws', false],
    ['/ws/..x', '/ws', true]
  ])('isInside(%s, %s) = %s (the one workspace check)', (child, parent, expected) => {
    expect(isInside(parent, path.resolve(child))).toBe(expected)
  })

  it('resolves file:// like Helm: absolute, or relative to the chart', () => {
    expect(fileDependencyPath('file://../lib', '/ws/charts/app')).toBe('/ws/charts/lib')
    expect(fileDependencyPath('file:///abs/lib', '/ws/charts/app')).toBe('/abs/lib')
    expect(fileDependencyPath('oci://x/y', '/ws/charts/app')).toBeUndefined()
  })
})
