// Closing the recovery pool while recoveries are in flight answers every one of them, the workers
// end by themselves (never terminated inside the native addon), and later requests are refused.
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
  it('sends the jobs of a turn once 16 are queued (the rest at the end of the turn); each request gets its own keys', async () => {
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
    // One transaction per request, as admission asks: 15 wait for the end of the turn...
    const asked = Array.from({ length: 40 }, (_, i) => jobs(1, 100 + i))
    const answers = asked.slice(0, 15).map((j) => pool.recover(j))
    expect(sent).toBe(0)
    // ...the 16th sends all 16 at once, within the turn.
    answers.push(pool.recover(asked[15] as ReturnType<typeof jobs>))
    expect(sent).toBeGreaterThan(0)
    const early = sent
    // The next 8 do not reach 16: sent at the end of the turn.
    for (const j of asked.slice(16, 24)) answers.push(pool.recover(j))
    expect(sent).toBe(early)
    await new Promise((r) => setImmediate(r))
    expect(sent).toBeGreaterThan(early)
    for (const j of asked.slice(24)) answers.push(pool.recover(j))
    const keys = await Promise.all(answers)
    keys.forEach((k, i) => {
      const j = (asked[i] as ReturnType<typeof jobs>)[0] as ReturnType<typeof jobs>[number]
      expect(k).toEqual([ecdsaRecover(j.sig, j.recovery, j.hash).subarray(1)])
    })
  })
})
