import { randomFillSync } from 'node:crypto'
import { sha256 } from '@noble/hashes/sha2'

/** A source of random bytes: `n` bytes per call. */
export type RandomSource = (n: number) => Uint8Array

const POOL_BYTES = 1 << 16
let osPool = new Uint8Array(0)
let osPoolAt = 0

/**
 * The operating system's CSPRNG: what every real snapshot uses. Bytes are drawn 64 KiB at a time
 * (one syscall per 2,000 salts) and each byte is handed out once, then the pool is refilled.
 */
export const cryptoRandom: RandomSource = (n) => {
  if (n > POOL_BYTES) return randomFillSync(new Uint8Array(n))
  if (osPoolAt + n > osPool.length) {
    osPool = randomFillSync(new Uint8Array(POOL_BYTES))
    osPoolAt = 0
  }
  const out = osPool.slice(osPoolAt, osPoolAt + n)
  osPool.fill(0, osPoolAt, osPoolAt + n)
  osPoolAt += n
  return out
}

/**
 * A deterministic stream (SHA-256 of seed ‖ counter). ONLY for test vectors and tests: salts and
 * padding drawn from it are predictable, which is exactly what a real snapshot must never be.
 */
export function seededRandom(seed: string): RandomSource {
  const s = new TextEncoder().encode(seed)
  let counter = 0
  let pool: Uint8Array = new Uint8Array(0)
  return (n) => {
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      if (pool.length === 0) {
        const buf = new Uint8Array(s.length + 8)
        buf.set(s)
        new DataView(buf.buffer).setBigUint64(s.length, BigInt(counter++))
        pool = sha256(buf)
      }
      const take = Math.min(pool.length, n - filled)
      out.set(pool.subarray(0, take), filled)
      pool = pool.subarray(take)
      filled += take
    }
    return out
  }
}

/** A uniform integer in [0, bound) by rejection sampling (no modulo bias). bound ≤ 2^32. */
export function randomBelow(random: RandomSource, bound: number): number {
  const limit = Math.floor(2 ** 32 / bound) * bound
  for (;;) {
    const b = random(4)
    const v = ((b[0] ?? 0) * 2 ** 24 + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0)) >>> 0
    if (v < limit) return v % bound
  }
}
