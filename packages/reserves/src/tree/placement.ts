import type { RandomSource } from './random.ts'

const BUFFER_BYTES = 1 << 16

/**
 * Reads a {@link RandomSource} as one byte stream, 64 KiB per call instead of 4 or 32 bytes. A
 * source is a stream (n bytes then m bytes are the same as n + m bytes), so buffering changes no
 * byte: a seeded source gives the same tree as before, and the OS CSPRNG stays the OS CSPRNG.
 */
export class ByteStream {
  private buf = new Uint8Array(0)
  private at = 0

  constructor(private readonly source: RandomSource) {}

  /** A big-endian uint32 (as `randomBelow` reads 4 bytes). */
  u32(): number {
    if (this.at + 4 > this.buf.length) this.refill(4)
    const b = this.buf
    const a = this.at
    this.at += 4
    return (
      ((b[a] as number) * 2 ** 24 +
        ((b[a + 1] as number) << 16) +
        ((b[a + 2] as number) << 8) +
        (b[a + 3] as number)) >>>
      0
    )
  }

  private refill(need: number): void {
    const rest = this.buf.subarray(this.at)
    const fresh = this.source(BUFFER_BYTES)
    const next = new Uint8Array(rest.length + fresh.length)
    next.set(rest)
    next.set(fresh, rest.length)
    fresh.fill(0)
    this.buf = next
    this.at = 0
    if (this.buf.length < need) this.refill(need)
  }

  /** Fills `out` with the next `out.length` bytes. */
  fill(out: Uint8Array): void {
    const have = Math.min(out.length, this.buf.length - this.at)
    out.set(this.buf.subarray(this.at, this.at + have))
    this.buf.fill(0, this.at, this.at + have)
    this.at += have
    const step = 1 << 20
    for (let o = have; o < out.length; o += step) {
      const chunk = this.source(Math.min(step, out.length - o))
      out.set(chunk, o)
      chunk.fill(0)
    }
  }
}

/** A uniform integer in [0, bound) by rejection sampling, exactly as `randomBelow` draws it. */
function below(stream: ByteStream, bound: number): number {
  const limit = Math.floor(2 ** 32 / bound) * bound
  for (;;) {
    const v = stream.u32()
    if (v < limit) return v % bound
  }
}

/**
 * A uniformly random placement of `n` users over `size` leaves: Fisher–Yates over all places
 * (users 0 … n−1 first, −1 = padding), rejection sampling so no index is favoured. Returns
 * leaf index → user index (or −1).
 */
export function placeUsers(n: number, slots: Int32Array, stream: ByteStream): Int32Array {
  const size = slots.length
  for (let i = 0; i < size; i++) slots[i] = i < n ? i : -1
  for (let i = size - 1; i > 0; i--) {
    const j = below(stream, i + 1)
    const t = slots[i] as number
    slots[i] = slots[j] as number
    slots[j] = t
  }
  return slots
}
