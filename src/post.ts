import { errorMessage } from './errors.js'
import { cleanup } from './runtime/cleanup.js'
import { warning } from './runtime/log.js'

// No top-level await (webpack's async-module runtime would be most of this bundle); the post
// step only ever warns, even about a bug of its own.
cleanup().catch((error: unknown) => warning(`Cleanup failed: ${errorMessage(error)}`))
