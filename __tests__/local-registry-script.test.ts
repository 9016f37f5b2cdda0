import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

// scripts/local-registry.ts serves src/dry-run/local-registry.ts (issue 11) for CI on other runners.
describe('scripts/local-registry.ts --background', () => {
  it('starts a detached registry, reports host and pid, and keeps serving after it exits', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'local-registry-script-'))
    const output = path.join(dir, 'github-output')
    const hostFile = path.join(dir, 'host')
    await fs.writeFile(output, '')
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.resolve('node_modules/tsx/dist/cli.mjs'),
        'scripts/local-registry.ts',
        '--background',
        '--host-file',
        hostFile
      ],
      { env: { ...process.env, GITHUB_OUTPUT: output } }
    )
    const outputs = Object.fromEntries(
      (await fs.readFile(output, 'utf8'))
        .trim()
        .split('\n')
        .map(line => line.split('=', 2))
    )
    try {
      expect(outputs.host).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(stdout.trim()).toBe(outputs.host)
      expect((await fs.readFile(hostFile, 'utf8')).trim()).toBe(outputs.host)
      const response = await fetch(`http://${outputs.host}/v2/`)
      expect(response.status).toBe(200)
    } finally {
      process.kill(Number(outputs.pid))
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
