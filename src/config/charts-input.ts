import * as fs from 'node:fs'
import * as path from 'node:path'
import { isDynamicPattern } from 'tinyglobby'
import { UserError } from '../errors.js'

/* The "charts" input: a list of paths and globs relative to the workspace. */

/** Splits a newline- or comma-separated list, dropping blanks and `#` comments. */
export function parseList(value: string): string[] {
  // Commas inside braces belong to a glob (charts/{api,web}), not to the list.
  return value
    .split(/\n|,(?![^{}]*\})/)
    .map(item => item.trim())
    .filter(item => item !== '' && !item.startsWith('#'))
}

/** Space-separated paths in one entry: each part exists (or is a glob), the whole does not. */
function looksSpaceSeparated(entry: string, workspace: string): boolean {
  const parts = entry.split(/\s+/)
  if (parts.length < 2 || fs.existsSync(path.resolve(workspace, entry))) return false
  const exists = (part: string) => fs.existsSync(path.resolve(workspace, part))
  return parts.every(part => isDynamicPattern(part) || exists(part))
}

/** The "charts" list; "." when it names nothing. */
export function parseCharts(value: string, workspace: string): string[] {
  const charts = parseList(value)
  const joined = charts.find(entry => looksSpaceSeparated(entry, workspace))
  if (joined) {
    throw new UserError(
      `Input "charts" entry "${joined}" looks like several paths separated by spaces: separate them with commas or newlines, e.g. "${joined.split(/\s+/).join(', ')}".`
    )
  }
  return charts.length > 0 ? charts : ['.']
}
