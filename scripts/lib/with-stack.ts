/**
 * Runs a script body against the e2e stack and always stops the stack: on success, on failure
 * (exit 1 with the reason) and on Ctrl-C (exit 130). Shared by the demo and the bench.
 */
import { startStack, type Stack, type StackOptions } from '../../testbed/stack.js'

export async function withStack(
  name: string,
  options: StackOptions,
  body: (stack: Stack) => Promise<void>
): Promise<number> {
  let stack: Stack | undefined
  const stop = async (): Promise<void> => {
    const s = stack
    stack = undefined
    await s?.stop()
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping the stack`)
    void stop().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    stack = await startStack(options)
    await body(stack)
    await stop()
    return 0
  } catch (error) {
    await stop().catch(() => undefined)
    console.error(`\n${name} FAILED: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}
