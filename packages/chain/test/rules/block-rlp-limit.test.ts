// EIP-7934 (Osaka on): a block whose RLP encoding is over 8,388,608 bytes is invalid. The producer
// keeps its blocks within the limit — a transaction that would pass it is skipped (left for the
// next block) and smaller ones after it still join — and import refuses a block one byte over
// with BlockException.RLP_BLOCK_LIMIT_EXCEEDED, while one exactly at the limit, and a Prague block
// over it, are imported. The blocks are real: big zero calldata transactions, executed.
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { type Hex, silentLogger } from '@cairn/utils'
import { Block, createBlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, bytesToHex, privateToAddress } from '@ethereumjs/util'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  blockSize,
  Chain,
  ChainErrorCode,
  devGenesis,
  MAX_RLP_BLOCK_SIZE,
  RLP_BLOCK_LIMIT_EXCEPTION,
} from '../../src/index.ts'
import { bodyTxLength, rlpItemLength } from '../../src/state/block-size.ts'
import { listSource, testEngine, transfer } from '../helpers.ts'

const LIMIT = 8_388_608
/** Seven senders, one transaction each (so skipping one never strands another's nonce). */
const KEYS = Array.from({ length: 7 }, (_, i) => new Uint8Array(32).fill(i + 1))
const ADDRS = KEYS.map((k) => bytesToHex(privateToAddress(k)) as Hex)
const TO = `0x${'be'.repeat(20)}` as Hex
/** EIP-7825's cap (Osaka) holds 21,000 + 10 gas per zero byte (EIP-7623's floor) up to ~1.67 MB. */
const BIG = 1_600_000
const TIMESTAMP = 12n

/**
 * A chain of `hardfork` from genesis with a 200M gas limit (room for ~8.4 MB of zero calldata at
 * 10 gas a byte), hashing with @cairn/crypto's keccak (megabytes of calldata to hash).
 */
async function openChain(hardfork: 'prague' | 'osaka'): Promise<Chain> {
  await initCrypto()
  const g = devGenesis({ accounts: ADDRS }) as { config: Record<string, unknown> }
  const genesis = { ...g, config: { ...g.config, cairn: { hardfork } }, gasLimit: '0xbebc200' }
  const kv = new MemoryKV()
  await kv.open()
  return Chain.open(
    { genesis },
    { kv, engine: testEngine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
}

/** A transaction from sender `i` with `length` zero bytes of calldata and exactly the gas it uses. */
function big(common: Common, i: number, length: number): TypedTransaction {
  const gasLimit = 21_000n + 10n * BigInt(length)
  return transfer(common, KEYS[i] as Uint8Array, 0n, TO, 0n, { data: new Uint8Array(length), gasLimit })
}

const gasOf = (txs: TypedTransaction[]) => txs.reduce((sum, tx) => sum + tx.gasLimit, 0n)

/**
 * Senders 0–4 with BIG bytes, sender 5 with 1 MB (over what is left after them), and sender 6
 * with what makes a block of senders 0–4 and 6 exactly `target` bytes: the header's width taken
 * from an empty block built on the same parent, its gas used (the only header field of another
 * width) counted at its own width.
 */
async function txsFor(chain: Chain, target: number): Promise<TypedTransaction[]> {
  const common = chain.common
  const first = [0, 1, 2, 3, 4].map((i) => big(common, i, BIG))
  const tooBig = big(common, 5, 1_000_000)
  const empty = await chain.build(chain.head, { timestamp: TIMESTAMP }, listSource([]))
  const emptyHeader = empty.block.header.serialize().length // gas used 0: one byte
  let length = 300_000
  for (;;) {
    const last = big(common, 6, length)
    const gasBytes = bigIntToUnpaddedBytes(gasOf([...first, last])).length
    const header = emptyHeader + gasBytes
    const txBytes = [...first, last].reduce((sum, tx) => sum + bodyTxLength(tx), 0)
    // header, transactions, no uncles, no withdrawals
    const size = rlpItemLength(header + rlpItemLength(txBytes) + 1 + 1)
    if (size === target) return [...first, tooBig, last]
    length += target - size
  }
}

/** `block` with other extra data (execution never reads it: the block stays valid but for its size). */
function withExtraData(block: Block, common: Common, length: number): Block {
  const header = createBlockHeader(
    { ...block.header.toJSON(), extraData: new Uint8Array(length).fill(0xee) },
    { common, skipConsensusFormatValidation: true },
  )
  return new Block(header, block.transactions, [], block.withdrawals, { common })
}

describe('EIP-7934: the RLP block size limit', () => {
  it('is 10 MiB less the 2 MiB safety margin', () => {
    expect(MAX_RLP_BLOCK_SIZE).toBe(LIMIT)
    expect(MAX_RLP_BLOCK_SIZE).toBe(10 * 1024 * 1024 - 2 * 1024 * 1024)
  })

  describe('Osaka', () => {
    let producer: Chain
    let txs: TypedTransaction[]
    beforeAll(async () => {
      producer = await openChain('osaka')
      txs = await txsFor(producer, LIMIT - 16)
    }, 60_000)

    it('the producer skips a transaction that would pass the limit, takes a smaller one after it, and stays within', async () => {
      const source = listSource(txs)
      const built = await producer.build(producer.head, { timestamp: TIMESTAMP }, source)
      const hashes = (list: readonly TypedTransaction[]) => list.map((tx) => bytesToHex(tx.hash()))
      const [a, b, c, d, e, tooBig, last] = txs as [TypedTransaction, ...TypedTransaction[]]
      expect(hashes(built.block.transactions)).toEqual(hashes([a, b, c, d, e, last] as TypedTransaction[]))
      // skipped, not dropped: the pool keeps it for the next block
      expect(built.rejected).toEqual([])
      expect(hashes(source.dropped)).toEqual(hashes([tooBig as TypedTransaction]))
      const size = built.block.serialize().length
      expect(blockSize(built.block)).toBe(size)
      expect(size).toBe(LIMIT - 16)
      // what it left out would have taken the block over the limit
      expect(size + bodyTxLength(tooBig as TypedTransaction)).toBeGreaterThan(LIMIT)
    }, 60_000)

    it('import takes a block of exactly 8,388,608 bytes and refuses one a byte over, by its EEST name', async () => {
      // A block of LIMIT - 16 bytes (the transactions that fit), then 16 and 17 bytes more.
      const fitting = txs.filter((_, i) => i !== 5)
      const built = await producer.build(producer.head, { timestamp: TIMESTAMP }, listSource(fitting))
      expect(built.block.transactions.length).toBe(fitting.length)
      const importer = await openChain('osaka')
      const atLimit = withExtraData(built.block, importer.common, 16) // 0x80 becomes 17 bytes: +16
      const over = withExtraData(built.block, importer.common, 17)
      expect(atLimit.serialize().length).toBe(LIMIT)
      expect(over.serialize().length).toBe(LIMIT + 1)

      const refused = await importer.processBlock(over.serialize(), { source: 'gossip', peer: 'p' })
      expect(refused.status).toBe('error')
      if (refused.status !== 'error') return
      expect(refused.error.code).toBe(ChainErrorCode.BLOCK_RLP_LIMIT_EXCEEDED)
      expect(refused.error.action).toBe('reject')
      expect(refused.error.message).toContain(RLP_BLOCK_LIMIT_EXCEPTION)
      expect(refused.error.message).toContain(`${LIMIT + 1} bytes`)
      expect(RLP_BLOCK_LIMIT_EXCEPTION).toBe('BlockException.RLP_BLOCK_LIMIT_EXCEEDED')
      expect(importer.head.header.number).toBe(0n)

      const accepted = await importer.processBlock(atLimit.serialize(), { source: 'gossip', peer: 'p' })
      expect(accepted.status).toBe('imported')
      expect(bytesToHex(importer.head.hash())).toBe(bytesToHex(atLimit.hash()))
    }, 60_000)
  })

  it('does not apply before Osaka: a Prague producer builds, and import takes, a block over it', async () => {
    const producer = await openChain('prague')
    const txs = await txsFor(producer, LIMIT - 16)
    const built = await producer.build(producer.head, { timestamp: TIMESTAMP }, listSource(txs))
    expect(built.block.transactions.length).toBe(txs.length)
    const size = built.block.serialize().length
    expect(size).toBeGreaterThan(LIMIT + 900_000)

    const importer = await openChain('prague')
    const result = await importer.processBlock(built.block.serialize(), { source: 'gossip', peer: 'p' })
    expect(result.status).toBe('imported')
  }, 60_000)
})
