/**
 * Admission micro-bench: JSON-RPC batches of `eth_sendRawTransaction` (params schema, handler,
 * pool) in-process, with recovery on worker threads as the node wires it. Reports main-thread
 * busy time per transaction (event-loop utilisation, so the workers' CPU is not counted) and wall
 * time. Each round admits `ROUNDS_TXS` transfers from 10 senders into a fresh pool.
 *
 *   node --import tsx packages/rpc/bench/admission.bench.ts [rounds] [txsPerRound]
 */
import { performance } from 'node:perf_hooks'
import { Chain, devGenesis, workerRecovery } from '@cairn/chain'
import { createCustomCrypto, initCrypto, RecoverPool } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, TxPool } from '@cairn/txpool'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { privateToAddress } from '@ethereumjs/util'
import { ethSendMethods } from '../src/methods/eth-send.ts'

const rounds = Number(process.argv[2] ?? 6)
const perRound = Number(process.argv[3] ?? 4000)
const SENDERS = 10
const BATCH = 100

// WebAssembly compilation does not keep the event loop alive on its own.
const keepAlive = setInterval(() => {}, 1000)
await initCrypto()
const keys = Array.from({ length: SENDERS }, (_, i) => {
  const k = new Uint8Array(32)
  k[31] = i + 1
  k[0] = 0x42
  return k
})
const addrs = keys.map((k) => bytesToHex(privateToAddress(k)) as Hex)
const kv = new MemoryKV()
await kv.open()
const chain = await Chain.open(
  { genesis: devGenesis({ accounts: addrs, balance: 10n ** 30n }) },
  { kv, engine: testEngine(), logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
)
const raws: string[] = []
for (let i = 0; i < perRound; i++) {
  const j = i % SENDERS
  const to = new Uint8Array(20)
  new DataView(to.buffer).setUint32(16, i + 1)
  const tx = createFeeMarket1559Tx(
    {
      nonce: BigInt(Math.floor(i / SENDERS)),
      to,
      value: 1n,
      gasLimit: 21000n,
      maxFeePerGas: 10n ** 13n,
      maxPriorityFeePerGas: 10n ** 9n,
      chainId: chain.chainId,
    },
    { common: chain.common },
  ).sign(keys[j] as Uint8Array)
  raws.push(bytesToHex(tx.serialize()))
}
const def = ethSendMethods.find((m) => m.name === 'eth_sendRawTransaction')
if (!def) throw new TypeError('no eth_sendRawTransaction')
// `main` as third argument: recovery on the main thread, and process CPU time = main-thread CPU time.
const onMain = process.argv[4] === 'main'
const recover = onMain ? undefined : RecoverPool.create()

const results: { busyUs: number; wallUs: number; cpuUs: number }[] = []
for (let r = 0; r < rounds; r++) {
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, globalSlots: perRound + 10, accountSlots: perRound },
    {
      stateAt: (root) => chain.stateAt(root),
      head: chain.head.header,
      logger: silentLogger,
      metrics: null,
      ...(recover ? { recovery: workerRecovery(recover) } : {}),
    },
  )
  const ctx = { chain, pool } as never
  const elu0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let b = 0; b < perRound; b += BATCH) {
    const out = await Promise.all(
      raws.slice(b, b + BATCH).map(async (raw, i) => {
        const parsed = def.params.safeParse([raw])
        if (!parsed.success) throw new TypeError('bad params')
        return { jsonrpc: '2.0', id: b + i, result: await def.handler(parsed.data, ctx, {}) }
      }),
    )
    JSON.stringify(out)
  }
  const wall = performance.now() - t0
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = process.cpuUsage(cpu0)
  if (pool.size !== perRound) throw new TypeError(`pool has ${pool.size}`)
  results.push({
    busyUs: (elu.active * 1000) / perRound,
    wallUs: (wall * 1000) / perRound,
    cpuUs: (cpu.user + cpu.system) / perRound,
  })
}
await recover?.close()
clearInterval(keepAlive)
const warm = results.slice(1)
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
console.log(
  JSON.stringify({
    threads: recover?.threads ?? 0,
    busyUsPerTx: warm.map((x) => Math.round(x.busyUs)),
    medianBusyUs: Math.round(med(warm.map((x) => x.busyUs))),
    medianWallUs: Math.round(med(warm.map((x) => x.wallUs))),
    medianProcessCpuUs: Math.round(med(warm.map((x) => x.cpuUs))),
  }),
)

function testEngine() {
  return {
    name: 'test',
    validateHeader: async () => {},
    preferHead: async (c: { number: bigint }, cur: { number: bigint }) => c.number > cur.number,
    safeNumber: (h: { number: bigint }) => h.number,
    finalizedNumber: () => 0n,
  } as never
}
