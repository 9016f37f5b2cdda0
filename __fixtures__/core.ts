/**
 * Typed mock of @actions/core for unit tests: `vi.mock('@actions/core', () => import('./core.js'))`.
 * Inputs come from `inputs`, state lives in `state`; everything else is a vi.fn to assert on.
 * For the real `summary`, merge this over `vi.importActual('@actions/core')`.
 */
import type * as core from '@actions/core'
import { vi } from 'vitest'

/** Values getInput returns; tests set and clear it. */
export const inputs: Record<string, string> = {}
/** What saveState stored (getState reads it back, as the runner does between main and post). */
export const state = new Map<string, string>()

export const debug = vi.fn<typeof core.debug>()
export const info = vi.fn<typeof core.info>()
export const notice = vi.fn<typeof core.notice>()
export const warning = vi.fn<typeof core.warning>()
export const error = vi.fn<typeof core.error>()
export const setFailed = vi.fn<typeof core.setFailed>()
export const setSecret = vi.fn<typeof core.setSecret>()
export const setOutput = vi.fn<typeof core.setOutput>()
export const addPath = vi.fn<typeof core.addPath>()
export const exportVariable = vi.fn<typeof core.exportVariable>()
export const startGroup = vi.fn<typeof core.startGroup>()
export const endGroup = vi.fn<typeof core.endGroup>()
export const isDebug = vi.fn<typeof core.isDebug>(() => false)
export const getInput = vi.fn<typeof core.getInput>(name => inputs[name] ?? '')
export const saveState = vi.fn<typeof core.saveState>((name, value) => {
  state.set(name, typeof value === 'string' ? value : JSON.stringify(value))
})
export const getState = vi.fn<typeof core.getState>(name => state.get(name) ?? '')
export const group = vi.fn(<T>(_name: string, fn: () => Promise<T>) => fn()) as typeof core.group

/** Clears recorded calls, inputs and state (implementations stay). */
export function resetCore(): void {
  for (const key of Object.keys(inputs)) delete inputs[key]
  state.clear()
  for (const fn of [
    debug,
    info,
    notice,
    warning,
    error,
    setFailed,
    setSecret,
    setOutput,
    addPath,
    exportVariable,
    startGroup,
    endGroup,
    isDebug,
    getInput,
    saveState,
    getState
  ]) {
    fn.mockClear()
  }
}
