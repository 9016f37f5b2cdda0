/**
 * An error the user can fix. Its message is one line that names the input (or the
 * thing to change) and the fix; main.ts reports it with core.setFailed and no stack.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(oneLine(message))
    this.name = 'UserError'
  }
}

/** No credentials could be found (a dry run then goes on without checking the registry). */
export class MissingCredentialsError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'MissingCredentialsError'
  }
}

/** Collapses whitespace so a message is always a single log line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

export function errorMessage(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error))
}
