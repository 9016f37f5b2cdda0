import { describe, expect, it } from 'vitest'
import { Once } from '../../src/publish/once.js'
import { scheduleByDependencies } from '../../src/publish/scheduler.js'

const tick = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('scheduleByDependencies', () => {
  it("gives each node its dependencies' results and the one it waited for last", async () => {
    const graph = [{ dependsOn: [1, 2] }, { dependsOn: [] }, { dependsOn: [] }]
    const seen: unknown[] = []
    const results = await scheduleByDependencies<string>(graph, 4, async (i, step) => {
      await tick(i === 2 ? 60 : 5)
      const deps = await step.dependencies()
      if (i === 0) seen.push(deps.results, deps.last, deps.waitedMs >= 40)
      return `r${i}`
    })
    expect(results).toEqual(['r0', 'r1', 'r2'])
    expect(seen).toEqual([['r1', 'r2'], 2, true])
  })

  it('never runs more than maxParallel slots, and a chain does not deadlock at 1', async () => {
    const graph = [{ dependsOn: [1] }, { dependsOn: [2] }, { dependsOn: [] }, { dependsOn: [] }]
    let active = 0
    let max = 0
    const order: number[] = []
    await scheduleByDependencies(graph, 1, async (i, step) => {
      await step.dependencies()
      return step.slot(async () => {
        max = Math.max(max, ++active)
        await tick(5)
        order.push(i)
        active--
      })
    })
    expect(max).toBe(1)
    expect(order.indexOf(2)).toBeLessThan(order.indexOf(1))
    expect(order.indexOf(1)).toBeLessThan(order.indexOf(0))
  })
})

describe('Once', () => {
  it('runs the work once; a failure started early is held and reaches every caller', async () => {
    let runs = 0
    const once = new Once(async () => {
      runs++
      await tick(5)
      throw new Error('login refused')
    }).start()
    await tick(20) // no unhandled rejection although nobody awaited yet
    await expect(once.get()).rejects.toThrow('login refused')
    await expect(once.outcome()).rejects.toThrow('login refused')
    expect(runs).toBe(1)
  })

  it('does nothing until asked; outcome() of work never started settles at once', async () => {
    let runs = 0
    const once = new Once(async () => {
      runs++
    })
    await once.outcome()
    expect([runs, once.started]).toEqual([0, false])
    await Promise.all([once.get(), once.get()])
    expect(runs).toBe(1)
  })
})
