/* `helm lint` output: findings by severity, with the chart file (and line) Helm names. */

export type LintSeverity = 'error' | 'warning' | 'info'

export interface LintFinding {
  severity: LintSeverity
  /** Path inside the chart, e.g. `templates/ingress.yaml` (undefined when Helm names none). */
  file?: string
  line?: number
  column?: number
  /** Helm's message, on one line. */
  message: string
}

const FINDING = /^\[(ERROR|WARNING|INFO)\]\s+(.*)$/
/** A template location inside a message: `CHART/templates/x.yaml:4:18` (Helm 3 and 4). */
const TEMPLATE_LOCATION =
  /(?:^|[\s:"])[^/\s:"]+\/((?:charts\/[^\s:"]+\/)?templates\/[^\s:"]+):(\d+)(?::(\d+))?/

/**
 * Parses `helm lint` output (Helm 3.8+ and 4: `[SEVERITY] path: message`, Helm 4 continues long
 * messages on indented lines). A template error's own location (`CHART/templates/x.yaml:4:18`)
 * wins over the coarse `templates/` Helm puts first.
 */
export function parseLintOutput(output: string): LintFinding[] {
  const findings: LintFinding[] = []
  let current: { severity: LintSeverity; text: string } | undefined
  const flush = (): void => {
    if (!current) return
    findings.push(describe(current.severity, current.text))
    current = undefined
  }
  for (const raw of output.split(/\r?\n/)) {
    const match = FINDING.exec(raw)
    if (match) {
      flush()
      current = { severity: match[1].toLowerCase() as LintSeverity, text: match[2].trim() }
    } else if (current && /^\s+\S/.test(raw)) {
      current.text += ` ${raw.trim()}`
    } else {
      flush()
    }
  }
  flush()
  return findings
}

function describe(severity: LintSeverity, text: string): LintFinding {
  // "templates/ing.yaml: message", "Chart.yaml: message", "templates/: message", or no path.
  const prefixed = /^([^\s:]+):\s+(.*)$/.exec(text)
  let file = prefixed && /[./]/.test(prefixed[1]) ? prefixed[1] : undefined
  const message = (file ? (prefixed as RegExpExecArray)[2] : text).replace(/\s+/g, ' ').trim()
  let line: number | undefined
  let column: number | undefined
  let rest = message
  const location = TEMPLATE_LOCATION.exec(text)
  if (location) {
    file = location[1]
    line = Number(location[2])
    column = location[3] ? Number(location[3]) : undefined
    // The location is now in file/line: drop it from the front of the message.
    rest = message.replace(/^(?:template:\s*)?[^\s:"]+\/templates\/[^\s:"]+:\d+(?::\d+)?:?\s*/, '')
  }
  if (file?.endsWith('/')) file = undefined // a directory ("templates/") is no file to annotate
  return { severity, file, line, column, message: rest }
}

/**
 * Splits the output of `helm lint A B C` into each chart's part, by the `==> Linting PATH` line
 * Helm prints before each (Helm 3.8+ and 4). Keys are the paths as given to Helm.
 */
export function splitLintOutput(output: string): Map<string, string> {
  const sections = new Map<string, string>()
  let current: string | undefined
  let lines: string[] = []
  const flush = (): void => {
    if (current !== undefined) sections.set(current, lines.join('\n'))
  }
  for (const line of output.split(/\r?\n/)) {
    const header = /^==> Linting (.+?)\s*$/.exec(line)
    if (header) {
      flush()
      current = header[1]
      lines = []
    } else if (current !== undefined) {
      lines.push(line)
    }
  }
  flush()
  return sections
}
