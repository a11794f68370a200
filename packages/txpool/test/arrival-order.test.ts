import type { SenderRecovery } from '@cairn/chain'
import type { TypedTransaction } from '@ethereumjs/tx'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ADDRS, KEYS, openChain, transfer } from '../../chain/test/helpers.ts'
import { ArrivalOrder } from '../src/arrival-order.ts'
import { poolOn } from './helpers.ts'

/** A sender recovery whose answers the test releases, in any order (as worker threads answer). */
function heldRecovery() {
  const held: (() => void)[] = []
  const recovery: SenderRecovery = {
    prepare: (txs) =>
      new Promise<void>((resolve, reject) => {
        held.push(() => {
          // A transaction marked to fail makes its recovery fail (a closed worker pool).
          if (txs.some((t) => failing.has(t))) reject(new Error('recovery failed'))
          else {
            for (const t of txs) t.cache.senderPubKey = t.getSenderPublicKey()
            resolve()
          }
        })
      }),
  }
  const failing = new Set<TypedTransaction>()
  return { recovery, held, failing }
}

async function poolWithHeldRecovery() {
  const chain = await openChain()
  const held = heldRecovery()
  const pool = poolOn(chain, {}, null, { recovery: held.recovery })
  return { chain, pool, common: chain.common, ...held }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('transactions enter the pool in the order they were added', () => {
  it('whatever order their senders’ recoveries finish in: a sender’s nonces sent in order never wait as queued', async () => {
    const { common } = await openChain()
    // Three senders, five nonces each, sent interleaved in nonce order per sender.
    const txs = [0n, 1n, 2n, 3n, 4n].flatMap((n) =>
      [0, 1, 2].map((s) => transfer(common, KEYS[s] as unknown as Uint8Array, n, ADDRS[1] as `0x${string}`, 1n)),
    )
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...txs.keys()], { minLength: txs.length }), async (order) => {
        const { pool, held } = await poolWithHeldRecovery()
        const queuedSeen: number[] = []
        pool.events.on('added', () => queuedSeen.push(pool.counts.queued))
        const added = txs.map((tx) => pool.add(tx, { source: 'local' }))
        for (const i of order) {
          held[i]?.()
          await tick()
        }
        await Promise.all(added)
        // Each went in executable, at once: none waited behind a later nonce of its sender.
        expect(queuedSeen).toEqual(txs.map(() => 0))
        expect(pool.counts).toEqual({ pending: txs.length, queued: 0 })
      }),
      { numRuns: 40 },
    )
  })

  it('a recovery that fails refuses its transaction only: the later ones still go in, in order', async () => {
    const { pool, held, failing, common } = await poolWithHeldRecovery()
    const txs = [0n, 1n, 2n].map((n) =>
      transfer(common, KEYS[0] as unknown as Uint8Array, n, ADDRS[1] as `0x${string}`, 1n),
    )
    const other = transfer(common, KEYS[1] as unknown as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n)
    failing.add(txs[1] as TypedTransaction)
    const added = [...txs, other].map((tx) =>
      pool.add(tx, { source: 'local' }).then(
        () => 'ok',
        (err: Error) => err.message,
      ),
    )
    for (const release of [...held].reverse()) release()
    expect(await Promise.all(added)).toEqual(['ok', 'recovery failed', 'ok', 'ok'])
    // Nonce 2 waits behind the refused nonce 1; the other sender's goes in.
    expect(pool.counts).toEqual({ pending: 2, queued: 1 })
  })
})

describe('ArrivalOrder', () => {
  it('begins turns in the order asked for, each once its own preparation is done', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 }), async (delays) => {
        const order = new ArrivalOrder()
        const begun: number[] = []
        await Promise.all(
          delays.map(async (d, i) => {
            const ready = new Promise<void>((r) => setTimeout(r, d))
            const turn = order.next(ready)
            await turn.wait
            begun.push(i)
            turn.pass()
          }),
        )
        expect(begun).toEqual(delays.map((_, i) => i))
        expect(order.size).toBe(0)
      }),
      { numRuns: 30 },
    )
  })

  it('a turn whose preparation fails waits for the earlier turns, and the later ones go on after it', async () => {
    const order = new ArrivalOrder()
    let releaseFirst = (): void => {}
    const first = order.next(new Promise<void>((r) => (releaseFirst = r)))
    const failing = order.next(Promise.reject(new Error('no key')))
    const third = order.next()
    const events: string[] = []
    const a = first.wait.then(() => events.push('first')).then(() => first.pass())
    const b = failing.wait.catch((e: Error) => events.push(e.message)).then(() => failing.pass())
    const c = third.wait.then(() => events.push('third')).then(() => third.pass())
    await tick()
    expect(events).toEqual([]) // the failure waits for the first turn
    releaseFirst()
    await Promise.all([a, b, c])
    expect(events).toEqual(['first', 'no key', 'third'])
  })
})
