// Closing the recovery pool while recoveries are in flight answers every one of them, the workers
// end by themselves (never terminated inside the native addon), and later requests are refused.
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { ecdsaRecover, ecdsaSign, initCrypto, keccak256, RecoverPool } from '../src/index.ts'

const KEY = keccak256(new TextEncoder().encode('recover pool test key'))

function jobs(n: number, salt: number) {
  return Array.from({ length: n }, (_, i) => {
    const hash = keccak256(new TextEncoder().encode(`message ${salt} ${i}`))
    const sig = ecdsaSign(hash, KEY)
    const sig64 = new Uint8Array(64)
    sig64.set(sig.r, 0)
    sig64.set(sig.s, 32)
    return { hash, sig: sig64, recovery: sig.recovery }
  })
}

const pools: RecoverPool[] = []
afterAll(async () => {
  for (const p of pools) await p.close()
})

/** A pool of two workers, closed after the file; undefined (with a warning) without libsecp256k1. */
async function newPool(): Promise<RecoverPool | undefined> {
  await initCrypto()
  const pool = RecoverPool.create({ threads: 2 })
  if (!pool) console.warn('native secp256k1 not loaded: no worker pool, test skipped')
  else pools.push(pool)
  return pool
}

describe('RecoverPool.close', () => {
  it('answers the recoveries already asked for, then the workers end on their own', async () => {
    const pool = await newPool()
    if (!pool) return
    const asked = jobs(200, 1)
    const answers = pool.recover(asked) // sent at once (200 jobs), still in flight at close
    const closing = pool.close()
    const keys = await answers
    await closing
    expect(keys).toHaveLength(200)
    keys.forEach((k, i) => {
      const j = asked[i] as (typeof asked)[number]
      expect(k).toEqual(ecdsaRecover(j.sig, j.recovery, j.hash).subarray(1))
    })
    await expect(pool.recover(jobs(1, 2))).rejects.toThrow(/closed/)
  })
})

describe('RecoverPool.recover', () => {
  const reference = (j: ReturnType<typeof jobs>[number]) => {
    try {
      return ecdsaRecover(j.sig, j.recovery, j.hash).subarray(1)
    } catch {
      return undefined
    }
  }

  it('hands jobs over through the shared ring, without messages; each request gets its own keys', async () => {
    const pool = await newPool()
    if (!pool) return
    let sent = 0
    for (const w of (pool as unknown as { workers: { postMessage: (...a: unknown[]) => void }[] }).workers) {
      const post = w.postMessage.bind(w)
      w.postMessage = (...a: unknown[]) => {
        sent++
        post(...a)
      }
    }
    // One transaction per request, as admission asks, over several turns; a few do not recover.
    const asked: ReturnType<typeof jobs>[] = []
    const answers: Promise<(Uint8Array | undefined)[]>[] = []
    for (let turn = 0; turn < 5; turn++) {
      for (let r = 0; r < 40; r++) {
        const req = jobs(1 + (r % 3), 100 + turn * 40 + r)
        if (r % 17 === 5) (req[0] as ReturnType<typeof jobs>[number]).sig.fill(0, 0, 32) // r = 0
        asked.push(req)
        answers.push(pool.recover(req))
      }
      await new Promise((r) => setImmediate(r))
    }
    const keys = await Promise.all(answers)
    keys.forEach((ks, r) => {
      expect(ks).toEqual((asked[r] as ReturnType<typeof jobs>).map(reference))
    })
    expect(keys.flat().filter((k) => k === undefined).length).toBeGreaterThan(0)
    expect(sent).toBe(0)
    expect(pool.recoveredHere).toBe(0)
  })

  it('a full ring sends the next jobs to the calling thread: with 8 slots, 500 at once are all answered right', async () => {
    await initCrypto()
    const pool = RecoverPool.create({ threads: 2, ringSlots: 8 })
    if (!pool) return
    pools.push(pool)
    const asked = jobs(500, 9)
    const keys = await pool.recover(asked)
    expect(keys).toEqual(asked.map(reference))
    expect(pool.recoveredHere).toBeGreaterThan(0)
    expect(pool.recoveredHere).toBeLessThan(500)
  })

  it('workers that sleep between requests wake for the next one', async () => {
    const pool = await newPool()
    if (!pool) return
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 20)) // both workers asleep on the ring
      const asked = jobs(3, 300 + round)
      expect(await pool.recover(asked)).toEqual(asked.map(reference))
    }
  })

  it('starts no thread until the first recovery or start(): a node pays for them after its first answer', async () => {
    // The process's OS threads (Linux): a worker is one more.
    const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1])
    if (!existsSync('/proc/self/status')) return
    await initCrypto()
    const before = threads()
    const pool = RecoverPool.create({ threads: 2 })
    if (!pool) return
    pools.push(pool)
    await new Promise((r) => setTimeout(r, 200))
    expect(threads()).toBe(before)
    expect(pool.threads).toBe(2)
    const asked = jobs(4, 700)
    expect(await pool.recover(asked)).toEqual(asked.map(reference))
    expect(threads()).toBeGreaterThanOrEqual(before + 2)
  })

  it('refuses a ring that is not a power of two', async () => {
    await initCrypto()
    expect(() => RecoverPool.create({ threads: 1, ringSlots: 12 })).toThrow(/power of two/)
  })
})
