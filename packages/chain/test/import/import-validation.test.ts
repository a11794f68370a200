// A received block's transactions are checked as they execute, their senders recovered ahead on
// worker threads (TxChecks): a bad transaction anywhere in the block — in the first recovery
// chunk, at a chunk boundary, the last one — rejects the block with the message @ethereumjs's
// validateData gives, writes nothing, and leaves the chain able to import the good block after.
// The same with the workers and without (recovery inline), message for message.
import { initCrypto, RecoverPool } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import type { Hex } from '@cairn/utils'
import { silentLogger } from '@cairn/utils'
import { type Block, createBlock, createBlockFromRLP } from '@ethereumjs/block'
import { createFeeMarket1559Tx, type FeeMarketEIP1559TxData, type TypedTransaction } from '@ethereumjs/tx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import {
  type Chain,
  ChainErrorCode,
  Chain as ChainImpl,
  devGenesis,
  encodedTx,
  workerRecovery,
} from '../../src/index.ts'
import { orderedTrieRoot } from '../../src/state/ordered-trie.ts'
import {
  ADDRS,
  cairnError,
  dumpKV,
  importBlock,
  KEYS,
  listSource,
  openChain,
  testEngine,
  transfer,
} from '../helpers.ts'

const N = 150 // three recovery chunks of 64: 0–63, 64–127, 128–149

let pool: RecoverPool | undefined
let source: Chain
let good: Block
beforeAll(async () => {
  await initCrypto()
  pool = RecoverPool.create({ threads: 2 })
  source = await openChain()
  const nonces = [0n, 0n, 0n]
  const txs: TypedTransaction[] = []
  for (let i = 0; i < N; i++) {
    const s = i % 3
    const to = `0xcc${(i + 1).toString(16).padStart(38, '0')}` as Hex
    txs.push(transfer(source.common, KEYS[s] as Uint8Array, nonces[s] as bigint, to, 1n))
    nonces[s] = (nonces[s] as bigint) + 1n
  }
  const built = await source.build(source.head, { timestamp: 12n }, listSource(txs))
  expect(built.rejected).toEqual([])
  good = built.block
}, 60_000)
afterAll(async () => {
  await pool?.close()
})

/** `good` with transaction `at` replaced (and the transactions root to match): fresh from RLP. */
function withTx(at: number, make: (tx: TypedTransaction) => TypedTransaction): Block {
  const txs = good.transactions.map((tx, i) => (i === at ? make(tx) : tx))
  const block = createBlock(
    {
      header: { ...good.header.toJSON(), transactionsTrie: orderedTrieRoot(txs.map(encodedTx)) },
      transactions: txs,
      withdrawals: [],
    },
    { common: source.common },
  )
  return createBlockFromRLP(block.serialize(), { common: source.common })
}

const fresh = (b: Block) => createBlockFromRLP(b.serialize(), { common: source.common })
const fields = (tx: TypedTransaction): FeeMarketEIP1559TxData => {
  const { type: _type, ...rest } = tx.toJSON()
  return rest as FeeMarketEIP1559TxData
}
/** A signature that recovers no key (r = the curve order). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const unrecoverable = (tx: TypedTransaction) =>
  createFeeMarket1559Tx({ ...fields(tx), r: SECP256K1_N }, { common: source.common })
/** No signature at all (r = 0): "unsigned". */
const unsigned = (tx: TypedTransaction) => createFeeMarket1559Tx({ ...fields(tx), r: 0n }, { common: source.common })
/** Properly signed, but its fee cap is under the block's base fee. */
const underBaseFee = (tx: TypedTransaction) =>
  createFeeMarket1559Tx(
    { ...fields(tx), maxFeePerGas: 1n, maxPriorityFeePerGas: 1n, v: undefined, r: undefined, s: undefined },
    { common: source.common },
  ).sign(KEYS[0] as Uint8Array)

const modes = [
  ['recovery inline', () => undefined],
  ['recovery on worker threads', () => (pool ? workerRecovery(pool) : undefined)],
] as const

describe.each(modes)('importing a received block, %s', (mode, recovery) => {
  let chain: Chain
  let kv: MemoryKV
  beforeAll(async () => {
    if (mode !== 'recovery inline' && !pool) console.warn('native secp256k1 not loaded: no worker pool, inline again')
    kv = new MemoryKV()
    await kv.open()
    const r = recovery()
    chain = await ChainImpl.open(
      { genesis: devGenesis({ accounts: ADDRS }) },
      { kv, engine: testEngine, logger: silentLogger, metrics: null, ...(r ? { recovery: r } : {}) },
    )
  })

  const cases: [string, () => Block, RegExp][] = [
    [
      'an unrecoverable signature, first transaction',
      () => withTx(0, unrecoverable),
      /errors at tx 0: .*Invalid Signature/,
    ],
    [
      'an unrecoverable signature, last of the first chunk',
      () => withTx(63, unrecoverable),
      /errors at tx 63: .*Invalid Signature/,
    ],
    [
      'an unrecoverable signature, first of the second chunk',
      () => withTx(64, unrecoverable),
      /errors at tx 64: .*Invalid Signature/,
    ],
    [
      'an unrecoverable signature, last transaction',
      () => withTx(N - 1, unrecoverable),
      /errors at tx 149: .*Invalid Signature/,
    ],
    ['no signature (r = 0)', () => withTx(70, unsigned), /transaction at index 70 is unsigned/],
    [
      'a fee cap under the base fee',
      () => withTx(100, underBaseFee),
      /errors at tx 100: tx unable to pay base fee \(EIP-1559 tx\)/,
    ],
    [
      'a transactions root that does not match',
      () =>
        fresh(
          createBlock(
            {
              header: { ...good.header.toJSON(), transactionsTrie: `0x${'11'.repeat(32)}` },
              transactions: good.transactions,
              withdrawals: [],
            },
            { common: source.common },
          ),
        ),
      /invalid transaction trie/,
    ],
  ]
  const messages = new Map<string, string>()

  it.each(cases)('%s: refused, nothing written', async (name, make, message) => {
    const before = await dumpKV(kv)
    const err = await cairnError(importBlock(chain, make()))
    expect(err.code).toBe(ChainErrorCode.BLOCK_INVALID)
    expect(err.fault).toBe('caller')
    expect(err.message, err.message).toMatch(message)
    expect(await dumpKV(kv)).toEqual(before)
    expect(chainParts(chain).stateDB.pendingCount).toBe(0)
    expect(chain.head.header.number).toBe(0n)
    messages.set(name, err.message.replace(/^block \d+ 0x[0-9a-f]+: /, ''))
  })

  it('then imports the good block, to the same state as its producer', async () => {
    const res = await importBlock(chain, fresh(good))
    expect(res.status).toBe('head')
    expect(chain.head.header.stateRoot).toEqual(good.header.stateRoot)
  })

  it('gives the same messages in both modes', () => {
    expect(messages.size).toBe(cases.length)
    const seen = (globalThis as { __importMessages?: Map<string, string> }).__importMessages
    if (seen) expect(Object.fromEntries(messages)).toEqual(Object.fromEntries(seen))
    else (globalThis as { __importMessages?: Map<string, string> }).__importMessages = messages
  })
})
