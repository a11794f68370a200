import { CairnError, type CairnErrorCode, silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { outboundMetrics, resilientCall } from '../src/index.ts'

async function counts(registry: Registry, target: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('cairn_outbound_calls_total')?.get()
  const out: Record<string, number> = {}
  for (const v of metric?.values ?? []) if (v.labels.target === target) out[String(v.labels.outcome)] = v.value
  return out
}

async function circuitGauge(registry: Registry, target: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('cairn_outbound_circuit_state')?.get()
  return metric?.values.find((v) => v.labels.target === target)?.value
}

async function rejection(p: Promise<unknown>): Promise<CairnError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CairnError)
  return err as CairnError
}

describe('resilientCall', () => {
  it('retries a failing call with backoff and returns the first success', async () => {
    const registry = new Registry()
    const call = resilientCall(
      { name: 'redis', timeoutMs: 500, retry: { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 20 } },
      { logger: silentLogger, metrics: outboundMetrics(registry) },
    )
    let attempts = 0
    const started = performance.now()
    const value = await call.execute(async () => {
      attempts++
      if (attempts < 3) throw new Error('ECONNRESET')
      return 'pong'
    })
    expect(value).toBe('pong')
    expect(attempts).toBe(3)
    expect(performance.now() - started).toBeGreaterThanOrEqual(1) // it waited between attempts
    expect(await counts(registry, 'redis')).toEqual({ error: 2, success: 1 })
  })

  it('gives up after maxAttempts with a transient CairnError carrying the cause', async () => {
    const call = resilientCall(
      { name: 'jwks', timeoutMs: 500, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 } },
      { logger: silentLogger, metrics: null },
    )
    let attempts = 0
    const err = await rejection(
      call.execute(async () => {
        attempts++
        throw new Error('503 from upstream')
      }),
    )
    expect(attempts).toBe(3)
    expect(err.code).toBe('OUTBOUND_FAILED')
    expect(err.fault).toBe('transient')
    expect(err.message).toMatch(/jwks.*503 from upstream/)
    expect((err.cause as Error).message).toBe('503 from upstream')
  })

  it('does not retry a caller fault and passes it through unchanged', async () => {
    const call = resilientCall(
      { name: 'jwks', timeoutMs: 500, retry: { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 5 } },
      { logger: silentLogger, metrics: null },
    )
    let attempts = 0
    const refused = new CairnError('AUTH_BAD_TOKEN' as CairnErrorCode, 'no such key id', { fault: 'caller' })
    const err = await rejection(
      call.execute(async () => {
        attempts++
        throw refused
      }),
    )
    expect(err).toBe(refused)
    expect(attempts).toBe(1)
  })

  it('opens the breaker after threshold consecutive failures, fails fast, then half-opens and closes', async () => {
    // The breaker reads Date.now() (cockatiel): the clock is moved past halfOpenAfterMs instead of waited for.
    vi.useFakeTimers({ toFake: ['Date'] })
    onTestFinished(() => {
      vi.useRealTimers()
    })
    const registry = new Registry()
    const call = resilientCall(
      { name: 'upstream', timeoutMs: 500, breaker: { threshold: 3, halfOpenAfterMs: 80 } },
      { logger: silentLogger, metrics: outboundMetrics(registry) },
    )
    let calls = 0
    let healthy = false
    const fn = async () => {
      calls++
      if (!healthy) throw new Error('down')
      return calls
    }
    for (let i = 0; i < 3; i++) expect((await rejection(call.execute(fn))).code).toBe('OUTBOUND_FAILED')
    expect(call.circuit).toBe('open')
    expect(await circuitGauge(registry, 'upstream')).toBe(1)

    const fast = await rejection(call.execute(fn))
    expect(fast.code).toBe('OUTBOUND_CIRCUIT_OPEN')
    expect(fast.fault).toBe('transient')
    expect(calls).toBe(3) // the open circuit did not call the dependency
    vi.advanceTimersByTime(79)
    expect((await rejection(call.execute(fn))).code).toBe('OUTBOUND_CIRCUIT_OPEN') // not yet half-open
    expect(calls).toBe(3)

    vi.advanceTimersByTime(1)
    // Half-open: one probe goes through; it fails, so the circuit opens again.
    expect((await rejection(call.execute(fn))).code).toBe('OUTBOUND_FAILED')
    expect(calls).toBe(4)
    expect(call.circuit).toBe('open')
    expect((await rejection(call.execute(fn))).code).toBe('OUTBOUND_CIRCUIT_OPEN')

    vi.advanceTimersByTime(80)
    healthy = true
    expect(await call.execute(fn)).toBe(5)
    expect(call.circuit).toBe('closed')
    expect(await circuitGauge(registry, 'upstream')).toBe(0)
    expect(await counts(registry, 'upstream')).toEqual({ error: 4, circuit_open: 3, success: 1 })
    call.dispose()
  })

  it('times out a slow attempt, aborting its signal', async () => {
    const registry = new Registry()
    const call = resilientCall(
      { name: 'slow', timeoutMs: 30 },
      { logger: silentLogger, metrics: outboundMetrics(registry) },
    )
    let aborted = false
    // The call never settles by itself: only the timeout can end it (a missing timeout hangs the test).
    const err = await rejection(
      call.execute(
        (signal) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              aborted = true
              reject(new Error('aborted'))
            })
          }),
      ),
    )
    expect(err.code).toBe('OUTBOUND_TIMEOUT')
    expect(err.fault).toBe('transient')
    expect(aborted).toBe(true)
    expect(await counts(registry, 'slow')).toEqual({ timeout: 1 })
  })

  it('many calls at once: no "possible EventTarget memory leak" warning (each call has its own signal)', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    onTestFinished(() => void process.off('warning', onWarning))
    const call = resilientCall(
      { name: 'busy', timeoutMs: 1000, retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 } },
      { logger: silentLogger, metrics: null },
    )
    const values = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call.execute(() => new Promise<number>((r) => setTimeout(() => r(i), 5)))),
    )
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => i))
    await new Promise((r) => setImmediate(r)) // warnings are emitted on the next tick
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
  })

  it('a timeout also gives up on a call that ignores its signal', async () => {
    const call = resilientCall({ name: 'deaf', timeoutMs: 20 }, { logger: silentLogger, metrics: null })
    const err = await rejection(call.execute(() => new Promise(() => {})))
    expect(err.code).toBe('OUTBOUND_TIMEOUT')
  })

  it('the bulkhead runs `limit` calls, queues `queue` more and refuses the rest at once', async () => {
    const registry = new Registry()
    const call = resilientCall(
      { name: 'db', timeoutMs: 1000, bulkhead: { limit: 1, queue: 1 } },
      { logger: silentLogger, metrics: outboundMetrics(registry) },
    )
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let running = 0
    let maxRunning = 0
    const fn = async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await gate
      running--
      return 'ok'
    }
    const first = call.execute(fn)
    const queued = call.execute(fn)
    const refused = await rejection(call.execute(fn))
    expect(refused.code).toBe('OUTBOUND_BULKHEAD_FULL')
    expect(refused.fault).toBe('transient')
    release()
    expect(await Promise.all([first, queued])).toEqual(['ok', 'ok'])
    expect(maxRunning).toBe(1)
    expect(await counts(registry, 'db')).toEqual({ success: 2, bulkhead_full: 1 })
  })

  it('n transient failures below maxAttempts always end in success after n+1 attempts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 5 }), async (extra, failures) => {
        const maxAttempts = failures + extra
        const call = resilientCall(
          { name: 'p', timeoutMs: 500, retry: { maxAttempts, initialDelayMs: 1, maxDelayMs: 2 } },
          { logger: silentLogger, metrics: null },
        )
        let attempts = 0
        const v = await call.execute(async () => {
          if (attempts++ < failures) throw new Error('flaky')
          return attempts
        })
        expect(v).toBe(failures + 1)
      }),
      { numRuns: 25 },
    )
  })

  it('shares the metrics between call sites on one registry', () => {
    const registry = new Registry()
    expect(outboundMetrics(registry)).toEqual(outboundMetrics(registry))
  })
})
