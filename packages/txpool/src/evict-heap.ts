import { comparePrice, type PoolTx } from './pool-tx.ts'

interface Node {
  ptx: PoolTx
  version: number
}

/**
 * A min-heap of pooled transactions, cheapest first (geth's priced order at one base fee), used to
 * pick eviction victims. Removal is lazy: an entry whose transaction has moved or left since it was
 * pushed (its `version` changed) is skipped when it reaches the top. The order depends on the base
 * fee, so the heap is rebuilt when an eviction needs it at another base fee than it was built for —
 * at most once per head, and only while the pool is full.
 */
export class EvictHeap {
  private nodes: Node[] = []
  baseFee: bigint

  constructor(baseFee: bigint) {
    this.baseFee = baseFee
  }

  get length(): number {
    return this.nodes.length
  }

  push(ptx: PoolTx): void {
    this.nodes.push({ ptx, version: ptx.version })
    this.up(this.nodes.length - 1)
  }

  /** The cheapest transaction still in the place it was pushed for, or undefined. */
  peek(): PoolTx | undefined {
    for (;;) {
      const top = this.nodes[0]
      if (!top) return undefined
      if (top.ptx.live && top.ptx.version === top.version) return top.ptx
      this.popNode()
    }
  }

  /** Removes and returns the cheapest valid transaction. */
  pop(): PoolTx | undefined {
    const top = this.peek()
    if (top) this.popNode()
    return top
  }

  /** Replaces the contents with `ptxs`, ordered at `baseFee` (O(n)). */
  rebuild(ptxs: Iterable<PoolTx>, baseFee: bigint): void {
    this.baseFee = baseFee
    this.nodes = []
    for (const ptx of ptxs) this.nodes.push({ ptx, version: ptx.version })
    for (let i = (this.nodes.length >> 1) - 1; i >= 0; i--) this.down(i)
  }

  private less(a: Node, b: Node): boolean {
    return comparePrice(a.ptx, b.ptx, this.baseFee) < 0
  }

  private popNode(): void {
    const last = this.nodes.pop()
    if (this.nodes.length > 0 && last) {
      this.nodes[0] = last
      this.down(0)
    }
  }

  private up(i: number): void {
    const nodes = this.nodes
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(nodes[i] as Node, nodes[p] as Node)) break
      ;[nodes[i], nodes[p]] = [nodes[p] as Node, nodes[i] as Node]
      i = p
    }
  }

  private down(i: number): void {
    const nodes = this.nodes
    const n = nodes.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.less(nodes[l] as Node, nodes[m] as Node)) m = l
      if (r < n && this.less(nodes[r] as Node, nodes[m] as Node)) m = r
      if (m === i) return
      ;[nodes[i], nodes[m]] = [nodes[m] as Node, nodes[i] as Node]
      i = m
    }
  }
}
