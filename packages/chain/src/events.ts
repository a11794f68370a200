import type { Block, BlockHeader } from '@ethereumjs/block'
import type { StoredReceipt } from './store/receipt.ts'

/** One log with its position in the chain, as subscriptions and filters deliver it. */
export interface LogEntry {
  address: Uint8Array
  topics: Uint8Array[]
  data: Uint8Array
  blockNumber: bigint
  blockHash: Uint8Array
  blockTimestamp: bigint
  transactionHash: Uint8Array
  transactionIndex: number
  logIndex: number
  removed: boolean
}

export interface ChainEvents extends Record<string, unknown> {
  /** A block became the head; on a reorg, once per block of the new branch, in order. */
  newHead: { block: Block; receipts: StoredReceipt[] }
  /** Logs of blocks that joined the canonical chain, or left it (`removed: true`) on a reorg. */
  logs: LogEntry[]
  /** The canonical chain switched branches. Emitted before the new branch's newHead events. */
  reorg: { oldHead: Block; newHead: Block; ancestorNumber: bigint; removed: Block[]; added: Block[] }
  /**
   * The finalized block moved forward (pushed by the engine with its certificate, or by a
   * rule-finality engine's `finalizedNumber`); never reverted by import.
   */
  finalized: { block: BlockHeader; certificate: Uint8Array }
  /** The safe block changed. */
  safe: { block: BlockHeader }
}

/** The logs of one block as {@link LogEntry}s. */
export function blockLogs(block: Block, receipts: StoredReceipt[], removed: boolean): LogEntry[] {
  const out: LogEntry[] = []
  const blockHash = block.hash()
  let logIndex = 0
  receipts.forEach((r, i) => {
    const txHash = (block.transactions[i] as Block['transactions'][number]).hash()
    for (const [address, topics, data] of r.logs) {
      out.push({
        address,
        topics,
        data,
        blockNumber: block.header.number,
        blockHash,
        blockTimestamp: block.header.timestamp,
        transactionHash: txHash,
        transactionIndex: i,
        logIndex: logIndex++,
        removed,
      })
    }
  })
  return out
}
