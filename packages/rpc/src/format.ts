import { blockSize, type LogEntry, logsBloom, type StoredReceipt } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, type Hex, toQuantity } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToBigInt, generateAddress } from '@ethereumjs/util'

/** Ethereum JSON-RPC shapes of blocks, transactions, receipts and logs. */

const q = toQuantity
const hex = bytesToHex

export function formatHeader(h: BlockHeader, hash: Uint8Array = h.hash()): Record<string, unknown> {
  const out: Record<string, unknown> = {
    number: q(h.number),
    hash: hex(hash),
    parentHash: hex(h.parentHash),
    nonce: hex(h.nonce),
    sha3Uncles: hex(h.uncleHash),
    logsBloom: hex(h.logsBloom),
    transactionsRoot: hex(h.transactionsTrie),
    stateRoot: hex(h.stateRoot),
    receiptsRoot: hex(h.receiptTrie),
    miner: h.coinbase.toString(),
    difficulty: q(h.difficulty),
    extraData: hex(h.extraData),
    gasLimit: q(h.gasLimit),
    gasUsed: q(h.gasUsed),
    timestamp: q(h.timestamp),
    mixHash: hex(h.mixHash),
  }
  if (h.baseFeePerGas !== undefined) out.baseFeePerGas = q(h.baseFeePerGas)
  if (h.withdrawalsRoot !== undefined) out.withdrawalsRoot = hex(h.withdrawalsRoot)
  if (h.blobGasUsed !== undefined) out.blobGasUsed = q(h.blobGasUsed)
  if (h.excessBlobGas !== undefined) out.excessBlobGas = q(h.excessBlobGas)
  if (h.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = hex(h.parentBeaconBlockRoot)
  if (h.requestsHash !== undefined) out.requestsHash = hex(h.requestsHash)
  return out
}

/**
 * A block in JSON-RPC shape. `anvil`: with Anvil's `totalDifficulty` too (set on dev chains;
 * geth dropped the field after the merge, and hive's rpc-compat compares blocks field for field).
 * A dev chain's blocks have no difficulty: the total is 0, as on Anvil's.
 */
export function formatBlock(block: Block, fullTxs: boolean, opts: { anvil?: boolean } = {}): Record<string, unknown> {
  const hash = block.hash()
  const out = formatHeader(block.header, hash)
  if (opts.anvil) out.totalDifficulty = q(0n)
  out.size = q(blockSize(block))
  out.uncles = []
  out.transactions = block.transactions.map((tx, i) => (fullTxs ? formatTx(tx, { block, index: i }) : hex(tx.hash())))
  if (block.withdrawals !== undefined) {
    out.withdrawals = block.withdrawals.map((w) => ({
      index: q(w.index),
      validatorIndex: q(w.validatorIndex),
      address: w.address.toString(),
      amount: q(w.amount),
    }))
  }
  return out
}

export interface TxPosition {
  block: Block
  index: number
}

/**
 * A transaction in JSON-RPC shape. An unsigned one (eth_fillTransaction) takes its sender from
 * `from` and its hash over the unsigned encoding.
 */
export function formatTx(tx: TypedTransaction, pos?: TxPosition, from?: string): Record<string, unknown> {
  const j = tx.toJSON() as Record<string, unknown>
  const signed = tx.isSigned()
  const out: Record<string, unknown> = {
    type: q(tx.type),
    hash: hex(signed ? tx.hash() : keccak256(tx.serialize())),
    nonce: q(tx.nonce),
    blockHash: pos ? hex(pos.block.hash()) : null,
    blockNumber: pos ? q(pos.block.header.number) : null,
    blockTimestamp: pos ? q(pos.block.header.timestamp) : null,
    transactionIndex: pos ? q(pos.index) : null,
    from: from ?? tx.getSenderAddress().toString(),
    to: tx.to ? tx.to.toString() : null,
    value: q(tx.value),
    gas: q(tx.gasLimit),
    input: hex(tx.data),
  }
  if ('maxFeePerGas' in tx) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    out.maxFeePerGas = q(t.maxFeePerGas)
    out.maxPriorityFeePerGas = q(t.maxPriorityFeePerGas)
    const baseFee = pos?.block.header.baseFeePerGas
    out.gasPrice = q(baseFee !== undefined ? effectiveGasPrice(tx, baseFee) : t.maxFeePerGas)
  } else {
    out.gasPrice = q((tx as unknown as { gasPrice: bigint }).gasPrice)
  }
  if ('maxFeePerBlobGas' in tx) {
    // @ethereumjs keeps the versioned hashes as hex strings.
    const t = tx as unknown as { maxFeePerBlobGas: bigint; blobVersionedHashes: (string | Uint8Array)[] }
    out.maxFeePerBlobGas = q(t.maxFeePerBlobGas)
    out.blobVersionedHashes = t.blobVersionedHashes.map((h) => (typeof h === 'string' ? h.toLowerCase() : hex(h)))
  }
  if (tx.type !== 0) {
    out.chainId = q(tx.common.chainId())
    out.accessList = j.accessList ?? []
    out.yParity = q(tx.v ?? 0n)
  } else if (legacyChainId(tx) !== undefined) {
    // As geth: only an EIP-155 signature (v = chainId * 2 + 35/36) names its chain.
    out.chainId = q(legacyChainId(tx) as bigint)
  }
  if ('authorizationList' in tx) out.authorizationList = formatAuthorizations(tx.authorizationList as Uint8Array[][])
  out.v = q(tx.v ?? 0n)
  out.r = q(tx.r ?? 0n)
  out.s = q(tx.s ?? 0n)
  return out
}

/**
 * An EIP-7702 authorization list as geth prints it: `chainId`, `nonce`, `yParity`, `r` and `s` as
 * quantities (no leading zeros, `0x0` for zero), `address` as 20 bytes. @ethereumjs's `toJSON`
 * gives the raw RLP bytes (`0x0c72…`, `0x`).
 */
function formatAuthorizations(list: Uint8Array[][]): Record<string, string>[] {
  return list.map(([chainId, address, nonce, yParity, r, s]) => ({
    chainId: q(bytesToBigInt(chainId as Uint8Array)),
    address: hex(address as Uint8Array),
    nonce: q(bytesToBigInt(nonce as Uint8Array)),
    yParity: q(bytesToBigInt(yParity as Uint8Array)),
    r: q(bytesToBigInt(r as Uint8Array)),
    s: q(bytesToBigInt(s as Uint8Array)),
  }))
}

/** The chain id a legacy transaction's signature commits to (EIP-155), or undefined for a pre-155 one. */
function legacyChainId(tx: TypedTransaction): bigint | undefined {
  const v = tx.v
  if (v === undefined) return tx.common.chainId()
  return v === 27n || v === 28n ? undefined : (v - 35n) / 2n
}

/** What a transaction pays per gas in a block with `baseFee`. */
export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  return baseFee + tx.getEffectivePriorityFee(baseFee)
}

export function formatLog(l: LogEntry): Record<string, unknown> {
  return {
    address: hex(l.address),
    topics: l.topics.map(hex),
    data: hex(l.data),
    blockNumber: q(l.blockNumber),
    blockHash: hex(l.blockHash),
    blockTimestamp: q(l.blockTimestamp),
    transactionHash: hex(l.transactionHash),
    transactionIndex: q(l.transactionIndex),
    logIndex: q(l.logIndex),
    removed: l.removed,
  }
}

/**
 * The receipts of a block in JSON-RPC shape; `timestamp`: each carries `blockTimestamp` (Anvil's,
 * a JSON number; geth's receipts have none, their logs do, a quantity); `blobGasPrice`: each carries its block's blob gas
 * price (Anvil's; geth's only a blob transaction's).
 */
export function formatReceipts(
  block: Block,
  receipts: StoredReceipt[],
  opts: { timestamp?: boolean; blobGasPrice?: boolean } = {},
): Record<string, unknown>[] {
  const blockHash = hex(block.hash())
  const baseFee = block.header.baseFeePerGas ?? 0n
  let logIndex = 0
  let prevCumulative = 0n
  return receipts.map((r, i) => {
    const tx = block.transactions[i] as TypedTransaction
    const from = hex(r.from) as Hex
    const logs = r.logs.map(([address, topics, data]) => ({
      address: hex(address),
      topics: topics.map(hex),
      data: hex(data),
      blockNumber: q(block.header.number),
      blockHash,
      blockTimestamp: q(block.header.timestamp),
      transactionHash: hex(tx.hash()),
      transactionIndex: q(i),
      logIndex: q(logIndex++),
      removed: false,
    }))
    const out: Record<string, unknown> = {
      type: q(r.type),
      // Before Byzantium a receipt holds the post-transaction state root, not a status (as geth).
      ...(r.root ? { root: hex(r.root) } : { status: q(r.status) }),
      cumulativeGasUsed: q(r.cumulativeGasUsed),
      gasUsed: q(r.cumulativeGasUsed - prevCumulative),
      logs,
      logsBloom: hex(logsBloom(r.logs)),
      transactionHash: hex(tx.hash()),
      transactionIndex: q(i),
      blockHash,
      blockNumber: q(block.header.number),
      from,
      to: tx.to ? tx.to.toString() : null,
      contractAddress: tx.to ? null : hex(generateAddress(r.from, bigToBytes(tx.nonce))),
      effectiveGasPrice: q(effectiveGasPrice(tx, baseFee)),
    }
    // Anvil's receipts carry it as a JSON number (their logs as a quantity, as geth's logs).
    if (opts.timestamp) out.blockTimestamp = Number(block.header.timestamp)
    if (opts.blobGasPrice && block.header.excessBlobGas !== undefined) {
      out.blobGasPrice = q(block.header.getBlobGasPrice())
    }
    if ('numBlobs' in tx && tx.type === 3) {
      // As geth: a blob transaction's receipt says the blob gas it used and what it paid per unit.
      out.blobGasUsed = q(BigInt(tx.numBlobs()) * tx.common.param('blobGasPerBlob'))
      out.blobGasPrice = q(block.header.getBlobGasPrice())
    }
    prevCumulative = r.cumulativeGasUsed
    return out
  })
}

/** The receipt options of a node serving Anvil's shapes or not (`RpcLimits.receiptTimestamps`). */
export function receiptShape(anvil: boolean): { timestamp: boolean; blobGasPrice: boolean } {
  return { timestamp: anvil, blobGasPrice: anvil }
}

function bigToBytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array()
  let h = n.toString(16)
  if (h.length % 2) h = `0${h}`
  return Uint8Array.from(Buffer.from(h, 'hex'))
}
