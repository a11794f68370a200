import { describe, expect, it } from 'vitest'
import { HealthChecks } from '../src/index.ts'

describe('HealthChecks', () => {
  it('is ok when every check passes and unavailable, naming the failure, when one fails or hangs', async () => {
    const h = new HealthChecks({ timeoutMs: 50 })
    let dbUp = true
    h.register('db', async () => {
      if (!dbUp) throw new Error('disk is read-only')
    })
    h.register('head', async () => {})
    expect((await h.run()).status).toBe('ok')
    dbUp = false
    const down = await h.run()
    expect(down.status).toBe('unavailable')
    expect(down.checks.db).toMatchObject({ ok: false, error: 'disk is read-only' })
    expect(down.checks.head?.ok).toBe(true)
    dbUp = true
    h.register('slow', () => new Promise(() => {}))
    const hung = await h.run()
    expect(hung.status).toBe('unavailable')
    expect(hung.checks.slow?.error).toMatch(/within 50 ms/)
  })
})
