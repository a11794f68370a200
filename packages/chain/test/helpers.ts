import { MemoryKV, type KVStore } from '@cairn/db'
import { type Hex, silentLogger } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { type TypedTransaction, createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { Chain, type BlockTxSource, type ChainEngine, devGenesis } from '../src/index.ts'

/** Well-known dev keys (test mnemonic accounts 0..2). */
export const KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9ad8729b0fc9b',
].map((k) => Uint8Array.from(Buffer.from(k.slice(2), 'hex')))
export const ADDRS = KEYS.map((k) => bytesToHex(privateToAddress(k)) as Hex)

/** Longest chain wins; no seal; nothing final. */
export const testEngine: ChainEngine = {
  name: 'test',
  validateHeader: async () => {},
  finalize: async () => {},
  preferHead: async (c: BlockHeader, cur: BlockHeader) => c.number > cur.number,
  safeNumber: (h) => h.number,
  finalizedNumber: () => 0n,
}

export async function openChain(kv: KVStore = new MemoryKV(), genesis: unknown = devGenesis({ accounts: ADDRS })) {
  await kv.open()
  return Chain.open({ genesis }, { kv, engine: testEngine, logger: silentLogger, metrics: null })
}

export function transfer(common: Common, key: Uint8Array, nonce: bigint, to: Hex, value: bigint, extra: object = {}): TypedTransaction {
  return createFeeMarket1559Tx(
    { nonce, to, value, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, ...extra },
    { common },
  ).sign(key)
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
