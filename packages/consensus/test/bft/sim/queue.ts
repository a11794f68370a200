/** A binary min-heap of timed items: the simulator's virtual time. Ties keep insertion order. */
export class EventQueue<T> {
  #heap: { time: number; seq: number; item: T }[] = []
  #seq = 0

  get size(): number {
    return this.#heap.length
  }

  push(time: number, item: T): void {
    const h = this.#heap
    h.push({ time, seq: this.#seq++, item })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(i, p)) break
      this.#swap(i, p)
      i = p
    }
  }

  pop(): { time: number; item: T } | undefined {
    const h = this.#heap
    if (h.length === 0) return undefined
    const top = h[0] as { time: number; seq: number; item: T }
    const last = h.pop() as { time: number; seq: number; item: T }
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.#less(l, m)) m = l
        if (r < h.length && this.#less(r, m)) m = r
        if (m === i) break
        this.#swap(i, m)
        i = m
      }
    }
    return { time: top.time, item: top.item }
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i] as { time: number; seq: number }
    const b = this.#heap[j] as { time: number; seq: number }
    return a.time < b.time || (a.time === b.time && a.seq < b.seq)
  }

  #swap(i: number, j: number): void {
    const h = this.#heap
    const t = h[i] as (typeof h)[number]
    h[i] = h[j] as (typeof h)[number]
    h[j] = t
  }
}
