// Admission throughput of the pool: `node --import tsx packages/txpool/bench/admission.bench.ts`
// Signs N transfers from S senders once, then admits them into a fresh pool twice: with the senders
// already recovered (each tx's sender cached, as after the RPC decodes and checks it) and with
// recovery (fresh decoded copies, so every add runs ecrecover). Prints transactions/s; asserts nothing.

import { Chain, devGenesis } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { silentLogger } from '@cairn/utils'
import { createFeeMarket1559Tx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { testEngine } from '../../chain/test/helpers.ts'
import { DEFAULT_TXPOOL_OPTIONS, TxPool } from '../src/index.ts'

const N = Number(process.argv[2] ?? 20_000)
const SENDERS = Number(process.argv[3] ?? 1000)
const PER = Math.ceil(N / SENDERS)

const backends = await initCrypto()
const keys = Array.from({ length: SENDERS }, (_, i) => {
  const k = new Uint8Array(32)
  k[28] = (i + 1) >> 16
  k[29] = ((i + 1) >> 8) & 0xff
  k[30] = (i + 1) & 0xff
  k[31] = 7
  return k
})
const addresses = keys.map((k) => bytesToHex(privateToAddress(k)) as `0x${string}`)
const kv = new MemoryKV()
await kv.open()
const chain = await Chain.open(
  { genesis: devGenesis({ accounts: addresses }) },
  { kv, engine: testEngine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
)

console.log(`signing ${SENDERS * PER} transactions from ${SENDERS} senders…`)
const signed: TypedTransaction[] = []
for (let n = 0; n < PER; n++) {
  for (const key of keys) {
    signed.push(
      createFeeMarket1559Tx(
        {
          nonce: BigInt(n),
          to: addresses[0],
          value: 1n,
          gasLimit: 21000n,
          maxFeePerGas: 10n ** 10n,
          maxPriorityFeePerGas: 10n ** 9n,
        },
        { common: chain.common },
      ).sign(key),
    )
  }
}
const raws = signed.map((tx) => tx.serialize())

function newPool(): TxPool {
  return new TxPool(
    {
      ...DEFAULT_TXPOOL_OPTIONS,
      globalSlots: signed.length,
      globalQueue: signed.length,
      accountSlots: PER,
      accountQueue: PER,
    },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
  )
}

async function run(label: string, txs: TypedTransaction[]): Promise<void> {
  const pool = newPool()
  const t0 = performance.now()
  for (const tx of txs) await pool.add(tx, { source: 'local' })
  const s = (performance.now() - t0) / 1000
  if (pool.size !== txs.length) throw new Error(`only ${pool.size} of ${txs.length} admitted`)
  console.log(
    `${label}: ${txs.length} txs in ${s.toFixed(2)} s = ${Math.round(txs.length / s).toLocaleString('en')} tx/s`,
  )
}

// recovered: warm each tx's sender cache first (what the RPC's decode + first check leaves behind)
for (const tx of signed) tx.getSenderAddress()
console.log(`secp256k1 backend: ${backends.secp256k1}`)
await run('admission, senders pre-recovered', signed)
const fresh = raws.map((r) => createTxFromRLP(r, { common: chain.common }))
await run('admission, with ecrecover       ', fresh)
await kv.close()
