// Sealing throughput of the executor alone (no RPC, no pool): `node --import tsx
// packages/chain/test/seal.bench.ts [N] [perBlock]`. Builds and imports blocks of pre-signed
// transfers (senders recovered beforehand, as after admission) to fresh accounts, with the transfer
// fast path on, then off, and prints wall and CPU time per transaction. Asserts nothing.
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { silentLogger } from '@cairn/utils'
import { createFeeMarket1559Tx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import { chainParts } from '../src/chain-parts.ts'
import { Chain, devGenesis } from '../src/index.ts'
import { listSource, testEngine } from './helpers.ts'

const N = Number(process.argv[2] ?? 10_000)
const PER_BLOCK = Number(process.argv[3] ?? 1000)
const SENDERS = 10

await initCrypto()
const keys = Array.from({ length: SENDERS }, (_, i) => new Uint8Array(32).fill(i + 1))
const addresses = keys.map((k) => bytesToHex(privateToAddress(k)) as `0x${string}`)

async function run(fast: boolean): Promise<void> {
  const kv = new MemoryKV()
  await kv.open()
  const chain = await Chain.open(
    { genesis: devGenesis({ accounts: addresses }) },
    { kv, engine: testEngine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  chainParts(chain).executor.fastTransfers = fast
  const txs: TypedTransaction[] = []
  for (let i = 0; i < N; i++) {
    const signed = createFeeMarket1559Tx(
      {
        nonce: BigInt(Math.floor(i / SENDERS)),
        to: `0x${(0x100000 + i).toString(16).padStart(40, 'c')}`,
        value: 1n,
        gasLimit: 21000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      },
      { common: chain.common },
    ).sign(keys[i % SENDERS] as Uint8Array)
    const tx = createTxFromRLP(signed.serialize(), { common: chain.common })
    tx.getSenderPublicKey()
    txs.push(tx)
  }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let timestamp = chain.head.header.timestamp
  for (let i = 0; i < N; i += PER_BLOCK) {
    timestamp += 1n
    const built = await chain.build(chain.head, { timestamp }, listSource(txs.slice(i, i + PER_BLOCK)))
    if (built.rejected.length > 0) throw new Error(`rejected: ${built.rejected[0]?.reason}`)
    await chain.committer.commit(built)
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  console.log(
    `fast path ${fast ? 'on ' : 'off'}: ${N} transfers in blocks of ${PER_BLOCK}: ${Math.round(N / (ms / 1000))} tx/s, ` +
      `${((ms * 1000) / N).toFixed(0)} µs/tx wall, ${((cpu.user + cpu.system) / N).toFixed(0)} µs/tx CPU`,
  )
  await kv.close()
}

await run(true)
await run(false)
