import type { BlockTxSource, BuildResult } from '@cairn/chain'
import { bytesToHex, CairnError, equalsBytes, hexToBytes, toQuantity } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { createWithdrawal } from '@ethereumjs/util'
import { z } from 'zod'
import { RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { address, data, hash32, quantity } from '../schemas.ts'
import { decodeRawTx } from './eth-send.ts'

/**
 * The gas limit a built block moves toward: geth's default `miner.gasceil` (60M). The method is
 * geth's and hive records geth's answers; Cairn's own producer keeps its parent's limit.
 */
export const BUILD_GAS_CEILING = 60_000_000n

/**
 * geth's `core.CalcGasLimit`: from the parent's limit one step toward `desired`, a step being at
 * most parent/1024 - 1 (the most a header may move, EIP-1559's bound), never under 5,000.
 */
export function nextGasLimit(parent: bigint, desired: bigint): bigint {
  const delta = parent / 1024n - 1n
  const want = desired < 5000n ? 5000n : desired
  if (parent < want) return parent + delta > want ? want : parent + delta
  if (parent > want) return parent - delta < want ? want : parent - delta
  return parent
}

const withdrawal = z.object({
  index: quantity,
  validatorIndex: quantity,
  address,
  amount: quantity,
})

/** The engine API's PayloadAttributes (V1–V3 fields). */
const payloadAttributes = z.object({
  timestamp: quantity,
  prevRandao: hash32,
  suggestedFeeRecipient: address,
  withdrawals: z.array(withdrawal).optional(),
  parentBeaconBlockRoot: hash32.optional(),
})

/**
 * The `testing` namespace (geth's, engine-API adjacent): served only where the node enables it
 * (`rpc.testing`; off by default on the prod profile) and only to `admin`.
 */
export const testingMethods: MethodDef[] = [
  method({
    name: 'testing_buildBlockV1',
    testingOnly: true,
    params: z.tuple([hash32, payloadAttributes, z.array(data).nullable().optional(), data.nullable().optional()]),
    async handler([parentHash, attrs, rawTxs, extraData], ctx) {
      const { chain } = ctx
      return chain.exclusive(async () => {
        const parent = chain.head
        if (bytesToHex(parent.hash()) !== parentHash) throw refused('parentHash is not current head')
        if (attrs.timestamp <= parent.header.timestamp) {
          throw refused(`invalid timestamp ${attrs.timestamp}: not after the parent's ${parent.header.timestamp}`)
        }
        const common = chain.commons.at({
          number: parent.header.number + 1n,
          timestamp: attrs.timestamp,
          difficulty: 0n,
        })
        // null (or absent): the pool's transactions, as the producer takes them; a list: exactly those.
        const given = rawTxs?.map((raw, i) => decode(common, raw, i))
        const source: BlockTxSource = given
          ? listSource(given)
          : await ctx.pool.blockSource(parent.header.calcNextBaseFee())
        const built = await chain.build(
          parent,
          {
            timestamp: attrs.timestamp,
            coinbase: hexToBytes(attrs.suggestedFeeRecipient),
            mixHash: hexToBytes(attrs.prevRandao),
            difficulty: 0n,
            gasLimit: nextGasLimit(parent.header.gasLimit, BUILD_GAS_CEILING),
            extraData: hexToBytes(extraData ?? '0x'),
            ...(attrs.parentBeaconBlockRoot ? { parentBeaconBlockRoot: hexToBytes(attrs.parentBeaconBlockRoot) } : {}),
            ...(attrs.withdrawals ? { withdrawals: attrs.withdrawals.map((w) => createWithdrawal(w)) } : {}),
          },
          source,
        )
        // Never committed: the result owns its state writes and is dropped with it; the chain and
        // the pool stay as they were.
        if (given) {
          const missing = given.find(
            (tx, i) => !equalsBytes(built.block.transactions[i]?.hash() ?? new Uint8Array(), tx.hash()),
          )
          if (missing) {
            const reason =
              built.rejected.find((r) => r.tx === missing)?.reason ??
              'no room left in the block (its gas limit, or from Osaka on its RLP size limit, EIP-7934)'
            throw refused(`transaction ${bytesToHex(missing.hash())} cannot be included: ${reason}`)
          }
        }
        ctx.logger.debug(
          { number: Number(built.block.header.number), txs: built.block.transactions.length },
          'testing_buildBlockV1: block built, not imported',
        )
        return envelope(built)
      })
    },
  }),
]

function refused(message: string): CairnError {
  return new CairnError(RpcErrorCode.EXECUTION_FAILED, message, { fault: 'caller' })
}

function decode(common: Parameters<typeof decodeRawTx>[0], raw: string, i: number): TypedTransaction {
  try {
    return decodeRawTx(common, hexToBytes(raw))
  } catch (err) {
    throw refused(`transaction ${i} does not decode: ${(err as Error).message}`)
  }
}

/** The given transactions in order; a failing one is skipped (and reported by the caller). */
function listSource(txs: TypedTransaction[]): BlockTxSource {
  let i = 0
  return { peek: () => txs[i], shift: () => void i++, pop: () => void i++ }
}

/** geth's ExecutionPayloadEnvelope (engine_getPayloadV4/V5 shape) of a built block. */
function envelope(built: BuildResult) {
  const { block } = built
  const h = block.header
  const baseFee = h.baseFeePerGas ?? 0n
  let prev = 0n
  let value = 0n
  for (const [i, r] of built.receipts.entries()) {
    const tx = block.transactions[i] as TypedTransaction
    value += (r.cumulativeGasUsed - prev) * tx.getEffectivePriorityFee(baseFee)
    prev = r.cumulativeGasUsed
  }
  const bundle = { commitments: [] as string[], proofs: [] as string[], blobs: [] as string[] }
  for (const tx of block.transactions) {
    const t = tx as { blobs?: string[]; kzgCommitments?: string[]; kzgProofs?: string[] }
    bundle.blobs.push(...(t.blobs ?? []))
    bundle.commitments.push(...(t.kzgCommitments ?? []))
    bundle.proofs.push(...(t.kzgProofs ?? []))
  }
  const prague = block.common.isActivatedEIP(7685)
  return {
    executionPayload: executionPayload(block),
    blockValue: toQuantity(value),
    blobsBundle: bundle,
    // As geth: the requests that carry data, each as its type byte and data (null before Prague).
    executionRequests: prague ? built.requests.filter((r) => r.length > 1).map((r) => bytesToHex(r)) : null,
    shouldOverrideBuilder: false,
  }
}

function executionPayload(block: Block): Record<string, unknown> {
  const h = block.header
  const out: Record<string, unknown> = {
    parentHash: bytesToHex(h.parentHash),
    feeRecipient: h.coinbase.toString(),
    stateRoot: bytesToHex(h.stateRoot),
    receiptsRoot: bytesToHex(h.receiptTrie),
    logsBloom: bytesToHex(h.logsBloom),
    prevRandao: bytesToHex(h.mixHash),
    blockNumber: toQuantity(h.number),
    gasLimit: toQuantity(h.gasLimit),
    gasUsed: toQuantity(h.gasUsed),
    timestamp: toQuantity(h.timestamp),
    extraData: bytesToHex(h.extraData),
    baseFeePerGas: toQuantity(h.baseFeePerGas ?? 0n),
    blockHash: bytesToHex(block.hash()),
    transactions: block.transactions.map((tx) => bytesToHex(tx.serialize())),
  }
  if (block.withdrawals) {
    out.withdrawals = block.withdrawals.map((w) => ({
      index: toQuantity(w.index),
      validatorIndex: toQuantity(w.validatorIndex),
      address: w.address.toString(),
      amount: toQuantity(w.amount),
    }))
  }
  if (h.blobGasUsed !== undefined) out.blobGasUsed = toQuantity(h.blobGasUsed)
  if (h.excessBlobGas !== undefined) out.excessBlobGas = toQuantity(h.excessBlobGas)
  return out
}
