/**
 * Issue 17: the e2e suite runs the bundle its global setup built from src/; this checks that the
 * committed dist/ is that same build, so `npm test` still catches a stale dist/ (as
 * scripts/check-dist.mjs does in CI) without building twice.
 */
import { describe, expect, it } from 'vitest'
import { staleMessage } from '../../scripts/check-dist.mjs'
import { bundleDir } from '../../testbed/paths.js'

describe('the bundle under test', () => {
  it('matches the committed dist/ (else: run npm run package)', () => {
    expect(staleMessage(bundleDir())).toBeUndefined()
  })
})
