// A shutdown step that takes longer than `slowStepMs` is logged with what shutdown waits on: the
// step, how long it has run, the steps after it and the process's active handles — so a stop that
// a supervisor's grace period ends with SIGKILL has said first what it was waiting on.
import { writerLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { activeResources, Shutdown } from '../src/shutdown.ts'

describe('Shutdown: a slow step', () => {
  it('is logged (warn "shutdown step slow") with the step, its time, the steps after it and the handles', async () => {
    const logged: { level: string; msg: string; fields: Record<string, unknown> }[] = []
    const logger = writerLogger((level, fields, msg) => void logged.push({ level, msg, fields }))
    const shutdown = new Shutdown(logger, 60_000, 50)
    const order: string[] = []
    shutdown.add('database', async () => void order.push('database'))
    shutdown.add('p2p', async () => {
      order.push('p2p')
      await new Promise((r) => setTimeout(r, 400))
    })
    shutdown.add('rpc', async () => void order.push('rpc'))
    await shutdown.close()
    expect(order).toEqual(['rpc', 'p2p', 'database'])
    const slow = logged.filter((l) => l.msg === 'shutdown step slow')
    expect(slow.length).toBeGreaterThanOrEqual(1)
    const first = slow[0] as (typeof slow)[number]
    expect(first.level).toBe('warn')
    expect(first.fields.step).toBe('p2p')
    expect(first.fields.stepMs as number).toBeGreaterThanOrEqual(50)
    expect(first.fields.pending).toEqual(['database'])
    // The 400 ms timer the step waits on is among the handles.
    expect((first.fields.resources as Record<string, number>).Timeout).toBeGreaterThanOrEqual(1)
  })

  it('fast steps log nothing at warn', async () => {
    const logged: string[] = []
    const logger = writerLogger((level, _fields, msg) => void logged.push(`${level} ${msg}`))
    const shutdown = new Shutdown(logger, 60_000, 1_000)
    shutdown.add('a', async () => {})
    await shutdown.close()
    expect(logged.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([])
    expect(typeof activeResources()).toBe('object')
  })
})
