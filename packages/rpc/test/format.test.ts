// Transaction and receipt shapes of the kinds a dev chain does not easily produce (blob and
// pre-EIP-155 transactions), against geth's RPCTransaction / MarshalReceipt fields.
import { createChainCommon, type StoredReceipt } from '@cairn/chain'
import { createBlock } from '@ethereumjs/block'
import { createTx } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { formatBlock, formatReceipts, formatTx, receiptShape } from '../src/format.ts'

const common = createChainCommon({ chainId: 1337n, hardfork: 'prague' })
const key = Buffer.from('ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', 'hex')
const hash1 = `0x01${'ab'.repeat(31)}` as const
const block = createBlock(
  { header: { number: 7n, timestamp: 1234n, baseFeePerGas: 10n, excessBlobGas: 0n, blobGasUsed: 131072n } },
  { common, skipConsensusFormatValidation: true },
)

describe('formatTx', () => {
  it('gives a blob transaction maxFeePerBlobGas and blobVersionedHashes, and its block timestamp', () => {
    const tx = createTx(
      {
        type: 3,
        to: `0x${'11'.repeat(20)}`,
        maxFeePerGas: 100n,
        maxPriorityFeePerGas: 1n,
        maxFeePerBlobGas: 7n,
        blobVersionedHashes: [hash1],
        gasLimit: 21000n,
      },
      { common },
    ).sign(key)
    const out = formatTx(tx, { block, index: 0 })
    expect(out).toMatchObject({
      type: '0x3',
      blockNumber: '0x7',
      blockTimestamp: '0x4d2',
      maxFeePerBlobGas: '0x7',
      blobVersionedHashes: [hash1],
      gasPrice: '0xb', // base fee 10 + tip 1
      chainId: '0x539',
    })
  })

  it('names no chainId on a pre-EIP-155 legacy transaction (v 27/28), and names it on an EIP-155 one', () => {
    const unprotected = createTx(
      { type: 0, to: `0x${'11'.repeat(20)}`, gasPrice: 20n, gasLimit: 21000n },
      { common: createChainCommon({ chainId: 1337n, hardfork: 'prague' }) },
    )
    const signed155 = unprotected.sign(key)
    expect(formatTx(signed155).chainId).toBe('0x539')
    const pre155 = createTx({ ...unprotected.toJSON(), type: 0, v: 27n, r: signed155.r, s: signed155.s }, { common })
    expect(formatTx(pre155)).not.toHaveProperty('chainId')
    expect(formatTx(pre155)).toMatchObject({
      blockHash: null,
      blockNumber: null,
      blockTimestamp: null,
      transactionIndex: null,
    })
  })
})

describe('formatReceipts', () => {
  it('gives a blob transaction receipt blobGasUsed and blobGasPrice (as geth)', () => {
    const tx = createTx(
      {
        type: 3,
        to: `0x${'11'.repeat(20)}`,
        maxFeePerGas: 100n,
        maxFeePerBlobGas: 7n,
        blobVersionedHashes: [hash1],
        gasLimit: 21000n,
      },
      { common },
    ).sign(key)
    const b = createBlock(
      { header: { number: 7n, baseFeePerGas: 10n, excessBlobGas: 0n, blobGasUsed: 131072n }, transactions: [tx] },
      { common, skipConsensusFormatValidation: true },
    )
    const [r] = formatReceipts(b, [
      { type: 3, status: 1, cumulativeGasUsed: 21000n, logs: [], from: tx.getSenderAddress().bytes },
    ])
    expect(r).toMatchObject({ blobGasUsed: '0x20000', blobGasPrice: '0x1', type: '0x3' })
  })

  it("in Anvil's shapes (a dev chain) every receipt has blobGasPrice and a JSON-number blockTimestamp; in geth's neither", () => {
    const tx = createTx({ type: 2, to: `0x${'11'.repeat(20)}`, maxFeePerGas: 100n, gasLimit: 21000n }, { common }).sign(
      key,
    )
    const b = createBlock(
      {
        header: { number: 7n, timestamp: 1234n, baseFeePerGas: 10n, excessBlobGas: 0n, blobGasUsed: 0n },
        transactions: [tx],
      },
      { common, skipConsensusFormatValidation: true },
    )
    const stored: StoredReceipt[] = [
      { type: 2, status: 1, cumulativeGasUsed: 21000n, logs: [], from: tx.getSenderAddress().bytes },
    ]
    const [anvil] = formatReceipts(b, stored, receiptShape(true))
    expect(anvil).toMatchObject({ blobGasPrice: '0x1', blockTimestamp: 1234 })
    const [geth] = formatReceipts(b, stored, receiptShape(false))
    expect(geth).not.toHaveProperty('blobGasPrice')
    expect(geth).not.toHaveProperty('blockTimestamp')
    expect(formatBlock(b, false, { anvil: true }).totalDifficulty).toBe('0x0')
    expect(formatBlock(b, false)).not.toHaveProperty('totalDifficulty')
  })

  it('gives a pre-Byzantium receipt its post-state root and no status (as geth)', () => {
    const tx = createTx({ type: 0, to: `0x${'11'.repeat(20)}`, gasPrice: 20n, gasLimit: 21000n }, { common }).sign(key)
    const b = createBlock(
      { header: { number: 7n }, transactions: [tx] },
      { common, skipConsensusFormatValidation: true },
    )
    const from = tx.getSenderAddress().bytes
    const root = new Uint8Array(32).fill(0x5e)
    const [pre] = formatReceipts(b, [{ type: 0, status: 1, root, cumulativeGasUsed: 21000n, logs: [], from }])
    expect(pre?.root).toBe(`0x${'5e'.repeat(32)}`)
    expect(pre).not.toHaveProperty('status')
    const [post] = formatReceipts(b, [{ type: 0, status: 0, cumulativeGasUsed: 21000n, logs: [], from }])
    expect(post?.status).toBe('0x0')
    expect(post).not.toHaveProperty('root')
  })
})

describe('formatTx authorizationList', () => {
  it('prints chainId, nonce, yParity, r and s as quantities (geth; rpc-compat get-setcode-tx)', () => {
    const tx = createTx(
      {
        type: 4,
        to: `0x${'11'.repeat(20)}`,
        maxFeePerGas: 100n,
        gasLimit: 50000n,
        authorizationList: [
          {
            chainId: '0x0c72dd9d5e883e',
            address: `0x${'8c'.repeat(20)}`,
            nonce: '0x',
            yParity: '0x',
            r: `0x00${'f1'.repeat(31)}`,
            s: '0x0193',
          },
        ],
      },
      { common },
    ).sign(key)
    expect(formatTx(tx).authorizationList).toEqual([
      {
        chainId: '0xc72dd9d5e883e',
        address: `0x${'8c'.repeat(20)}`,
        nonce: '0x0',
        yParity: '0x0',
        r: `0x${'f1'.repeat(31)}`,
        s: '0x193',
      },
    ])
  })
})
