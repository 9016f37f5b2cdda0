/** Small HTML pieces for the job summary. Everything from outside goes through escapeHtml. */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
}

/**
 * Text from outside (chart names, errors, registry answers) as HTML: escaped, and on one line,
 * since a blank line would end the HTML block in the summary's Markdown.
 */
export function escapeHtml(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[&<>"']/g, c => ENTITIES[c] ?? c)
}

/**
 * A code block, its text escaped and its lines kept (core.summary.addCodeBlock escapes nothing).
 * The blank line before it starts a new HTML block in the summary's Markdown, one that only
 * `</pre>` ends: a blank line inside the code would otherwise end the block and turn the rest
 * of the code into Markdown.
 */
export function codeBlock(text: string, lang: string): string {
  return `\n<pre lang="${lang}"><code>${text.replace(/[&<>]/g, c => ENTITIES[c] ?? c)}</code></pre>`
}

/** Inline code, or nothing for an empty value. */
export function code(text: string): string {
  return text ? `<code>${escapeHtml(text)}</code>` : ''
}

/** A table cell that is always closed (core.summary writes an empty one as a bare `<td>`). */
export function cell(html: string, tag: 'td' | 'th' = 'td'): string {
  return `<${tag}>${html}</${tag}>`
}

/** `sha256:` and the first 12 hex digits; anything else as it is. */
export function shortDigest(digest: string): string {
  const match = /^([a-z0-9]+):([0-9a-f]{12})[0-9a-f]{4,}$/.exec(digest)
  return match ? `${match[1]}:${match[2]}…` : digest
}

/** `1 chart`, `2 charts`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
