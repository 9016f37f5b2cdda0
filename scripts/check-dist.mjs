// Fails when dist/ differs from a fresh build of src/ (what users run must be what we test).
import { execFileSync } from 'node:child_process'

execFileSync('npm', ['run', '--silent', 'package'], { stdio: ['ignore', 'ignore', 'inherit'] })
const changed = execFileSync('git', ['status', '--porcelain', '--', 'dist'], { encoding: 'utf8' })
if (changed.trim() !== '') {
  console.error(
    'dist/ is stale: it differs from a fresh build of src/. Run `npm run package` and commit dist/.'
  )
  console.error(changed)
  process.exit(1)
}
console.log('dist/ matches a fresh build of src/')
