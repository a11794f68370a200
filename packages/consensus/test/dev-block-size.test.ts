// EIP-7934 in the producer, through the real pool: the dev engine seals pooled transactions that
// add up to more than the 8,388,608-byte RLP limit into a first block within it, leaves the rest in
// the pool (not dropped) and seals them into the next block, every sender's nonces in order.
import { blockSize, devGenesis, MAX_RLP_BLOCK_SIZE } from '@cairn/chain'
import { bytesToHex, type Hex } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { privateToAddress } from '@ethereumjs/util'
import { afterEach, describe, expect, it } from 'vitest'
import { transfer } from '../../chain/test/helpers.ts'
import { devSetup, GWEI, recordHeads, stopAll, until } from './helpers.ts'

afterEach(stopAll)

const SENDERS = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(0x21 + i))
const ADDRS = SENDERS.map((k) => bytesToHex(privateToAddress(k)) as Hex)
const PER_SENDER = 12
/** Zero calldata under the pool's 128 KiB cap: 72 of them are ~8.65 MB, over the limit. */
const DATA = 120_000
const TO = `0x${'be'.repeat(20)}` as Hex

describe('DevEngine: EIP-7934 block size limit (Osaka)', () => {
  it('seals what fits within the limit and leaves the rest pooled for the next block', async () => {
    const g = devGenesis({ accounts: ADDRS }) as Record<string, unknown>
    // 200M gas: the gas limit is not what stops the first block (72 × 1.22M gas = 88M).
    const { chain, pool, engine } = await devSetup({ genesis: { ...g, gasLimit: '0xbebc200' }, automineBatch: true })
    const heads = recordHeads(chain)
    const txs: TypedTransaction[] = []
    for (let n = 0n; n < BigInt(PER_SENDER); n++) {
      for (const [i, key] of SENDERS.entries()) {
        // EIP-7623's floor: 10 gas a zero byte; tips interleave the senders in the price order
        const extra = {
          data: new Uint8Array(DATA),
          gasLimit: 21_000n + 10n * BigInt(DATA),
          maxPriorityFeePerGas: BigInt(i + 1) * GWEI,
        }
        txs.push(transfer(chain.common, key, n, TO, 0n, extra))
      }
    }
    for (const tx of txs) await pool.add(tx, { source: 'local' })
    const pooledBytes = txs.reduce((sum, tx) => sum + tx.serialize().length, 0)
    expect(pooledBytes).toBeGreaterThan(MAX_RLP_BLOCK_SIZE)

    await engine.start()
    await until(() => pool.size === 0, 30_000, 'the pool to empty')

    const blocks = heads.map((h) => h.block)
    expect(blocks.map((b) => b.header.number)).toEqual([1n, 2n])
    const [first, second] = blocks as [(typeof blocks)[0], (typeof blocks)[0]]
    for (const b of blocks) {
      expect(blockSize(b)).toBe(b.serialize().length)
      expect(b.serialize().length).toBeLessThanOrEqual(MAX_RLP_BLOCK_SIZE)
    }
    // the first block is as full as the limit lets it be: one more transaction would not fit
    expect(first.serialize().length + 120_200).toBeGreaterThan(MAX_RLP_BLOCK_SIZE)
    expect(first.transactions.length + second.transactions.length).toBe(txs.length)
    const hex = (tx: TypedTransaction) => bytesToHex(tx.hash())
    const mined = blocks.flatMap((b) => b.transactions)
    expect(mined.map(hex).sort()).toEqual(txs.map(hex).sort())
    const next = new Map<string, bigint>()
    for (const tx of mined) {
      const from = tx.getSenderAddress().toString()
      expect(tx.nonce).toBe(next.get(from) ?? 0n)
      next.set(from, tx.nonce + 1n)
    }
  }, 120_000)
})
