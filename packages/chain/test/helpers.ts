import { type KVStore, MemoryKV } from '@cairn/db'
import { CairnError, type Hex, silentLogger } from '@cairn/utils'
import { type Block, type BlockHeader, createBlock } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, privateToAddress } from '@ethereumjs/util'
import { chainParts } from '../src/chain-parts.ts'
import type { ImportOptions } from '../src/import/importer.ts'
import {
  type BlockTxSource,
  Chain,
  type ChainEngine,
  devGenesis,
  type ImportResult,
  type StateReader,
  validateExtraData,
} from '../src/index.ts'

/** Well-known dev keys (test mnemonic accounts 0..2). */
export const KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9ad8729b0fc9b',
].map((k) => Uint8Array.from(Buffer.from(k.slice(2), 'hex')))
export const ADDRS = KEYS.map((k) => bytesToHex(privateToAddress(k)) as Hex)

/** Longest chain wins; no seal; extra data ≤ 32 bytes; nothing final. */
export const testEngine: ChainEngine = {
  name: 'test',
  validateHeader: async (header) => validateExtraData(header),
  preferHead: async (c: BlockHeader, cur: BlockHeader) => c.number > cur.number,
  safeNumber: (h) => h.number,
  finalizedNumber: () => 0n,
}

export async function openChain(kv: KVStore = new MemoryKV(), genesis: unknown = devGenesis({ accounts: ADDRS })) {
  await kv.open()
  return Chain.open({ genesis }, { kv, engine: testEngine, logger: silentLogger, metrics: null })
}

export function transfer(
  common: Common,
  key: Uint8Array,
  nonce: bigint,
  to: Hex,
  value: bigint,
  extra: object = {},
): TypedTransaction {
  return createFeeMarket1559Tx(
    { nonce, to, value, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, ...extra },
    { common },
  ).sign(key)
}

/**
 * A signed transaction of type 0, 1 or 2 (legacy, EIP-2930, EIP-1559) to a fixed address, for
 * tests that need every encoding: fee 1 gwei (the 1559 one: cap 10 gwei, tip 1 wei).
 */
export function typedTx(
  common: Common,
  key: Uint8Array,
  type: number,
  f: { nonce: bigint; value: bigint; gasLimit: bigint; data: Uint8Array },
): TypedTransaction {
  const fields = { ...f, to: `0x${'be'.repeat(20)}` as const }
  if (type === 0) return createLegacyTx({ ...fields, gasPrice: 10n ** 9n }, { common }).sign(key)
  if (type === 1) return createAccessList2930Tx({ ...fields, gasPrice: 10n ** 9n }, { common }).sign(key)
  return createFeeMarket1559Tx({ ...fields, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n }, { common }).sign(key)
}

/** A tx source over a plain list (in order, no grouping by sender). */
export function listSource(txs: TypedTransaction[]): BlockTxSource & { dropped: TypedTransaction[] } {
  let i = 0
  const dropped: TypedTransaction[] = []
  return {
    dropped,
    peek: () => txs[i],
    shift: () => void i++,
    pop: () => {
      const t = txs[i]
      if (t) dropped.push(t)
      i++
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers for the chain tests.

/** Runtime code: LOG1 with topic = calldata[0..32], no data. */
export const LOG_CODE = '0x60003560006000a100'
/** Runtime code: storage[NUMBER] = BLOCKHASH(NUMBER - 1). */
export const BLOCKHASH1_CODE = '0x6001430340435500'
/** Runtime code: storage[NUMBER] = BLOCKHASH(NUMBER - 2). */
export const BLOCKHASH2_CODE = '0x6002430340435500'
/** Runtime code: INVALID — a call burns all the gas it is given. */
export const BURN_CODE = '0xfe'

export const LOG_ADDR = '0x00000000000000000000000000000000000c0de1' as Hex
export const BH1_ADDR = '0x00000000000000000000000000000000000c0de2' as Hex
export const BH2_ADDR = '0x00000000000000000000000000000000000c0de3' as Hex
export const BURN_ADDR = '0x00000000000000000000000000000000000c0de4' as Hex

export const INITIAL_BALANCE = 10_000n * 10n ** 18n

/** devGenesis plus the small test contracts above. */
export function contractsGenesis(): unknown {
  const g = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
  g.alloc[LOG_ADDR] = { balance: '0', code: LOG_CODE }
  g.alloc[BH1_ADDR] = { balance: '0', code: BLOCKHASH1_CODE }
  g.alloc[BH2_ADDR] = { balance: '0', code: BLOCKHASH2_CODE }
  g.alloc[BURN_ADDR] = { balance: '0', code: BURN_CODE }
  return g
}

/** A signed EIP-1559 call with calldata. */
export function call(
  common: Common,
  key: Uint8Array,
  nonce: bigint,
  to: Hex,
  data: Uint8Array = new Uint8Array(),
  gasLimit = 100_000n,
): TypedTransaction {
  return transfer(common, key, nonce, to, 0n, { data, gasLimit })
}

export function word(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte)
}

/** Builds a block on `parent` (default: the head) from `txs` and imports it with its execution result. */
export async function buildAndImport(
  chain: Chain,
  txs: TypedTransaction[],
  opts: { timestamp?: bigint; parent?: Block } = {},
) {
  const parent = opts.parent ?? chain.head
  const built = await chain.build(
    parent,
    { timestamp: opts.timestamp ?? parent.header.timestamp + 12n },
    listSource(txs),
  )
  const result = await chain.committer.commit(built)
  return { ...built, result }
}

/**
 * Imports `block` through the chain's importer, which executes it (the importer's own path, under
 * the front door): what these tests of the import pipeline check. Throws what the importer throws.
 */
export function importBlock(chain: Chain, block: Block, opts?: ImportOptions): Promise<ImportResult> {
  return chainParts(chain).importer.importBlock(block, undefined, opts)
}

/** The same block with some header fields replaced (same transactions). */
export function tamper(
  block: Block,
  common: Common,
  over: Record<string, unknown>,
  opts: { skipConsensusFormatValidation?: boolean } = {},
): Block {
  return createBlock(
    { header: { ...block.header.toJSON(), ...over }, transactions: block.transactions, withdrawals: [] },
    { common, ...opts },
  )
}

/** Every entry of a KV store as hex, to prove that nothing was written. */
export async function dumpKV(kv: KVStore): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of kv.iterate()) out.set(bytesToHex(k), bytesToHex(v))
  return out
}

/** Awaits a rejection and returns it as a CairnError (fails the test if it is anything else). */
export async function cairnError(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p
  } catch (err) {
    if (err instanceof CairnError) return err
    throw new Error(`expected a CairnError, got ${String(err)}`)
  }
  throw new Error('expected a rejection, but the promise resolved')
}

export function cairnErrorSync(fn: () => unknown): CairnError {
  try {
    fn()
  } catch (err) {
    if (err instanceof CairnError) return err
    throw new Error(`expected a CairnError, got ${String(err)}`)
  }
  throw new Error('expected a throw, but the call returned')
}

export async function accountAt(chain: StateReader, root: Uint8Array, addr: Hex) {
  return chain.stateAt(root).getAccount(createAddressFromString(addr))
}

export async function balanceAt(chain: StateReader, root: Uint8Array, addr: Hex): Promise<bigint> {
  return (await accountAt(chain, root, addr))?.balance ?? 0n
}

export async function storageAt(chain: StateReader, root: Uint8Array, addr: Hex, key: Uint8Array): Promise<Uint8Array> {
  return chain.stateAt(root).getStorage(createAddressFromString(addr), key)
}

/** Expected EIP-1559 base fee after a parent block (elasticity 2, max change 1/8), computed independently. */
export function expectedNextBaseFee(baseFee: bigint, gasUsed: bigint, gasLimit: bigint): bigint {
  const target = gasLimit / 2n
  if (gasUsed === target) return baseFee
  if (gasUsed > target) {
    const delta = (baseFee * (gasUsed - target)) / target / 8n
    return baseFee + (delta > 1n ? delta : 1n)
  }
  return baseFee - (baseFee * (target - gasUsed)) / target / 8n
}
