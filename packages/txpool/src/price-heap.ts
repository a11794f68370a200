import type { BlockTxSource } from '@cairn/chain'
import type { TypedTransaction } from '@ethereumjs/tx'
import { blobFieldsOf } from './pool-tx.ts'

/** The blob room of the block being built and the blob base fee its blob transactions must pay. */
export interface BlobBlockLimits {
  maxBlobs: number
  blobBaseFee: bigint
}

/** The tip a transaction pays a block producer at `baseFee`. */
export function effectiveTip(tx: TypedTransaction, baseFee: bigint): bigint {
  return tx.getEffectivePriorityFee(baseFee)
}

/** Can `tx` pay at least the base fee? */
export function coversBaseFee(tx: TypedTransaction, baseFee: bigint): boolean {
  const cap = 'maxFeePerGas' in tx ? (tx.maxFeePerGas as bigint) : (tx as unknown as { gasPrice: bigint }).gasPrice
  return cap >= baseFee
}

type Entry = { txs: TypedTransaction[]; pos: number; tip: bigint; seq: number }

/**
 * Transactions by price and nonce: the head of each sender's executable run, highest effective tip
 * first (earlier arrival on ties), so a block takes the best-paying transactions while each
 * sender's nonces stay in order. A sender whose next transaction cannot pay the base fee stops.
 * So does one whose next is a blob transaction that cannot pay the blob base fee or whose blobs
 * no longer fit the block (`blob`; null: no blob transaction goes in): it is passed over here, not
 * offered and refused, so the pool keeps it for a later block.
 */
export class PriceAndNonceSource implements BlockTxSource {
  private heap: Entry[] = []
  /** Blobs of the transactions taken so far (those `shift`ed past). */
  private blobsUsed = 0

  constructor(
    runs: TypedTransaction[][],
    private readonly baseFee: bigint,
    private readonly blob: BlobBlockLimits | null = null,
  ) {
    let seq = 0
    for (const txs of runs) {
      const first = txs[0]
      if (!first || !coversBaseFee(first, baseFee)) continue
      this.push({ txs, pos: 0, tip: effectiveTip(first, baseFee), seq: seq++ })
    }
  }

  peek(): TypedTransaction | undefined {
    for (;;) {
      const top = this.heap[0]
      if (!top) return undefined
      const tx = top.txs[top.pos] as TypedTransaction
      const b = blobFieldsOf(tx)
      if (b && !this.blobFits(b.count, b.feeCap)) {
        this.pop()
        continue
      }
      return tx
    }
  }

  private blobFits(count: number, feeCap: bigint): boolean {
    const limits = this.blob
    return limits !== null && this.blobsUsed + count <= limits.maxBlobs && feeCap >= limits.blobBaseFee
  }

  shift(): void {
    const top = this.heap[0]
    if (!top) return
    this.blobsUsed += blobFieldsOf(top.txs[top.pos] as TypedTransaction)?.count ?? 0
    top.pos++
    const next = top.txs[top.pos]
    if (!next || !coversBaseFee(next, this.baseFee)) {
      this.pop()
      return
    }
    top.tip = effectiveTip(next, this.baseFee)
    this.down(0)
  }

  pop(): void {
    const last = this.heap.pop()
    if (this.heap.length > 0 && last) {
      this.heap[0] = last
      this.down(0)
    }
  }

  private better(a: Entry, b: Entry): boolean {
    return a.tip > b.tip || (a.tip === b.tip && a.seq < b.seq)
  }

  private push(e: Entry): void {
    this.heap.push(e)
    let i = this.heap.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.better(this.heap[i] as Entry, this.heap[p] as Entry)) break
      ;[this.heap[i], this.heap[p]] = [this.heap[p] as Entry, this.heap[i] as Entry]
      i = p
    }
  }

  private down(i: number): void {
    const n = this.heap.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let best = i
      if (l < n && this.better(this.heap[l] as Entry, this.heap[best] as Entry)) best = l
      if (r < n && this.better(this.heap[r] as Entry, this.heap[best] as Entry)) best = r
      if (best === i) return
      ;[this.heap[i], this.heap[best]] = [this.heap[best] as Entry, this.heap[i] as Entry]
      i = best
    }
  }
}
