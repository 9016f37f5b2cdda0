#!/usr/bin/env node
// `npm audit --omit=dev` for what the action ships (dist/ bundles only production dependencies),
// with findings that were looked at and explained in README.md ("Reliability and security")
// listed below. Not part of CI: it needs the registry's advisory endpoint.
//
// Exit codes: 0 clean or every finding explained, 1 unexplained findings, 2 the audit could not
// run (no network, or a registry mirror without the advisory endpoint): never reported as clean.
import { spawnSync } from 'node:child_process'

/** Advisory id or package name -> why it does not affect the action (mirrored in the README). */
const EXPLAINED = {}

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' })
let report
try {
  report = JSON.parse(run.stdout)
} catch {
  console.error(`npm audit printed no report (exit ${run.status}): ${run.stderr.trim()}`)
  process.exit(2)
}
if (!report.vulnerabilities) {
  const reason = report.message ?? report.error?.summary ?? JSON.stringify(report).slice(0, 300)
  console.error(`npm audit could not run: ${reason}`)
  process.exit(2)
}

const findings = Object.values(report.vulnerabilities)
const unexplained = findings.filter(v => {
  const ids = v.via.filter(x => typeof x === 'object').map(x => x.url ?? x.source)
  return !(v.name in EXPLAINED) && !ids.some(id => id in EXPLAINED)
})
const total = report.metadata?.dependencies?.prod ?? report.metadata?.dependencies?.total ?? '?'
console.log(
  `npm audit --omit=dev: ${findings.length} finding(s) in ${total} production dependencies, ${findings.length - unexplained.length} explained`
)
for (const v of findings) {
  const titles = v.via.map(x => (typeof x === 'object' ? `${x.title} (${x.url})` : `via ${x}`))
  const note = EXPLAINED[v.name] ? ` - explained: ${EXPLAINED[v.name]}` : ''
  console.log(`  ${v.severity} ${v.name} ${v.range}: ${titles.join('; ')}${note}`)
}
process.exit(unexplained.length > 0 ? 1 : 0)
