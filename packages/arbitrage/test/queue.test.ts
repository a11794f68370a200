// The in-process queue, the wire format and the claims (unit).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeQueued, encodeQueued } from '../src/queue/message.ts'
import { claimed, MemoryClaims, MemoryQueue } from '../src/queue/queue.ts'
import { queued } from './queue-fixtures.ts'

describe('queue messages', () => {
  it('round-trip exactly, amounts of any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.bigInt({ min: 0n, max: 2n ** 256n }), (i, big) => {
        const q = queued(i)
        q.opportunity.amountIn = big
        expect(decodeQueued(encodeQueued(q))).toEqual(q)
      }),
    )
  })

  it('refuse malformed input', () => {
    expect(() => decodeQueued(new TextEncoder().encode('{"v":1,"id":"x"}'))).toThrow()
  })

  it('give the same opportunity the same id, and different ones different ids', () => {
    expect(queued(1).id).toBe(queued(1).id)
    expect(new Set(Array.from({ length: 100 }, (_, i) => queued(i).id)).size).toBe(100)
  })
})

describe('MemoryQueue with claims', () => {
  it('hands each opportunity to the handler in order, once even when published twice', async () => {
    const q = new MemoryQueue()
    const claims = new MemoryClaims()
    const done: string[] = []
    let dup = 0
    const stop = await q.consume(
      claimed(
        claims,
        'x',
        async (m) => {
          done.push(m.id)
          return true
        },
        () => dup++,
      ),
    )
    for (let i = 0; i < 10; i++) {
      await q.publish(queued(i))
      if (i % 3 === 0) await q.publish(queued(i))
    }
    await q.drained()
    await stop()
    expect(done).toEqual(Array.from({ length: 10 }, (_, i) => queued(i).id))
    expect(dup).toBe(4)
  })

  it('releases the claim of an opportunity that was not sent, so a later delivery may take it', async () => {
    const claims = new MemoryClaims()
    const runs: boolean[] = []
    let send = false
    const h = claimed(claims, 'x', async () => {
      runs.push(send)
      return send
    })
    await h(queued(1)) // not sent (killed): released
    send = true
    await h(queued(1)) // taken and sent: kept
    await h(queued(1)) // a duplicate: not run
    expect(runs).toEqual([false, true])
  })
})
