/*
 * The post step's log, on Node's built-ins only: a line on stdout, and a warning as the runner's
 * `::warning::` workflow command (the data escaped the way @actions/core escapes it, so a path
 * with a newline stays one annotation).
 */

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

export function info(message: string): void {
  process.stdout.write(`${message}\n`)
}

export function warning(message: string): void {
  process.stdout.write(`::warning::${escapeData(message)}\n`)
}
