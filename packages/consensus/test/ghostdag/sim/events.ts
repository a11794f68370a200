// The simulator's clock and randomness: a seeded generator (mulberry32) and a queue of timed
// events, run in (time, insertion) order so that a seed replays exactly.

/** A 32-bit seeded generator in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An exponential waiting time of rate `rate` (events a second). */
export function exponential(rand: () => number, rate: number): number {
  return -Math.log(1 - rand()) / rate
}

interface Entry {
  at: number
  seq: number
  run: () => void
}

/** A min-heap of events by (time, insertion order). */
export class EventQueue {
  #heap: Entry[] = []
  #seq = 0
  now = 0

  at(time: number, run: () => void): void {
    const e = { at: Math.max(time, this.now), seq: this.#seq++, run }
    const h = this.#heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  /** Runs events until none is left at or before `until`. */
  runUntil(until: number): void {
    const h = this.#heap
    while (h.length > 0 && h[0]!.at <= until) {
      const top = h[0]!
      const last = h.pop()!
      if (h.length > 0) {
        h[0] = last
        let i = 0
        for (;;) {
          const l = 2 * i + 1
          const r = l + 1
          let m = i
          if (l < h.length && before(h[l]!, h[m]!)) m = l
          if (r < h.length && before(h[r]!, h[m]!)) m = r
          if (m === i) break
          ;[h[i], h[m]] = [h[m]!, h[i]!]
          i = m
        }
      }
      this.now = top.at
      top.run()
    }
    if (Number.isFinite(until)) this.now = Math.max(this.now, until)
  }

  get size(): number {
    return this.#heap.length
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
