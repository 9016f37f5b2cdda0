import { cleanup } from './runtime/cleanup.js'

await cleanup()
