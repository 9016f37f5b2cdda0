// Preloaded (node --import) into the action by `npm run bench` for its trace: prefixes every
// stdout line with the milliseconds since the process started, and marks the exit.
import { performance } from 'node:perf_hooks'

const write = process.stdout.write.bind(process.stdout)
const stamp = () => `[${performance.now().toFixed(1)}] `
let atLineStart = true

process.stdout.write = (chunk, ...rest) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
  let out = ''
  for (const piece of text.split(/(?<=\n)/)) {
    if (atLineStart && piece !== '') out += stamp()
    out += piece
    if (piece !== '') atLineStart = piece.endsWith('\n')
  }
  return write(out, ...rest)
}

write(`${stamp()}::stamp::origin ${performance.timeOrigin}\n`)
process.on('exit', () => write(`${stamp()}::stamp::exit\n`))
