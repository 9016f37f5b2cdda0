/** Turns what the runner records (workflow-command stdout, HTML job summary) into plain text. */

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&nbsp;': ' '
}

export function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39|nbsp);/g, e => ENTITIES[e] ?? e)
}

function unescapeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/**
 * The action's log as the GitHub UI shows it: groups as "▸ title" with their lines indented,
 * errors and warnings labelled; debug lines and masks left out.
 */
export function renderLog(stdout: string): string {
  const out: string[] = []
  let inGroup = false
  for (const line of stdout.split(/\r?\n/)) {
    if (line === '') continue
    const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line)
    if (!command) {
      out.push(`${inGroup ? '    ' : '  '}${line}`)
      continue
    }
    const [, name, data] = command
    if (name === 'group') {
      out.push(`  ▸ ${unescapeCommand(data)}`)
      inGroup = true
    } else if (name === 'endgroup') {
      inGroup = false
    } else if (name === 'error' || name === 'warning' || name === 'notice') {
      out.push(`  ${name.toUpperCase()}: ${unescapeCommand(data)}`)
    }
    // debug, add-mask, set-output ...: not shown
  }
  return out.join('\n')
}

function stripTags(html: string): string {
  return decodeEntities(html.replace(/<[^>]+>/g, '')).trim()
}

/** Rows of cells as aligned text columns. */
export function textTable(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => (r[c] ?? '').length)))
  return rows
    .map(
      r =>
        indent +
        r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd()
    )
    .join('\n')
}

/** The job summary (HTML written by @actions/core's summary) as plain text. */
export function summaryToText(html: string): string {
  const blocks: string[] = []
  const re =
    /<h([1-6])>([\s\S]*?)<\/h\1>|<table>([\s\S]*?)<\/table>|<pre[^>]*>([\s\S]*?)<\/pre>|<p>([\s\S]*?)<\/p>/g
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const [, level, heading, table, pre, para] = m
    if (heading !== undefined) {
      blocks.push(`  ${'#'.repeat(Number(level))} ${stripTags(heading)}`)
    } else if (table !== undefined) {
      const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(row =>
        [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map(cell => stripTags(cell[1]))
      )
      if (rows.length > 0) blocks.push(textTable(rows))
    } else if (pre !== undefined) {
      const code = decodeEntities(pre.replace(/<\/?code[^>]*>/g, ''))
      blocks.push(
        code
          .split('\n')
          .map(l => `      ${l}`)
          .join('\n')
      )
    } else if (para !== undefined) {
      blocks.push(`  ${stripTags(para)}`)
    }
  }
  return blocks.join('\n\n')
}
