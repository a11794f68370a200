// `npm run bench`: the issue #8 figures for Cairn and, when its binary is found, Anvil, one after
// the other on this machine, printed as a table with the ratio. Settings (environment):
//   BENCH_TXS (20000) transfers, BENCH_SENDERS (10), BENCH_BATCH (100) per JSON-RPC batch,
//   BENCH_READ_SECONDS (5) per read method, BENCH_CONNECTIONS (16), BENCH_ONLY (cairn|anvil),
//   ANVIL_BIN (path), ANVIL_BLOCK_TIME (1; 0 = automine), CAIRN_NODE_ARGS (e.g. --cpu-prof).
import { deriveAccounts, ecdsaSign, keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { encodeDeployData, encodeFunctionData, type Hex, serializeTransaction } from 'viem'
import { compileContracts, tokenAbi } from '../test/e2e/contracts.ts'
import { runReads } from './reads.ts'
import { RpcClient } from './rpc-client.ts'
import { findAnvil, startAnvil, startCairn, type Target } from './targets.ts'
import { DEV_MNEMONIC, runTransfers, type TransferResult } from './transfers.ts'

const env = process.env
const num = (name: string, dflt: number) => (env[name] !== undefined ? Number(env[name]) : dflt)
const settings = {
  txs: num('BENCH_TXS', 20_000),
  senders: num('BENCH_SENDERS', 10),
  batch: num('BENCH_BATCH', 100),
  readSeconds: num('BENCH_READ_SECONDS', 5),
  connections: num('BENCH_CONNECTIONS', 16),
  anvilBlockTime: num('ANVIL_BLOCK_TIME', 1),
}

interface Figures {
  transfers: TransferResult
  getBalance: number
  blockNumber: number
  call: number
}

async function measure(target: Target): Promise<Figures> {
  const log = (msg: string) => process.stderr.write(`[${target.name}] ${msg}\n`)
  log(`transfers: ${settings.txs} from ${settings.senders} senders in batches of ${settings.batch}`)
  const transfers = await runTransfers(target.url, {
    count: settings.txs,
    senders: settings.senders,
    batch: settings.batch,
    waitMs: 120_000,
  })
  log(JSON.stringify(transfers))
  const token = await deployToken(target.url)
  const reader = deriveAccounts(DEV_MNEMONIC, 1)[0]?.address as Hex
  const callData = encodeFunctionData({ abi: tokenAbi, functionName: 'balanceOf', args: [reader] })
  const readOpts = { connections: settings.connections, seconds: settings.readSeconds }
  const reads: [string, unknown[]][] = [
    ['eth_getBalance', [reader, 'latest']],
    ['eth_blockNumber', []],
    ['eth_call', [{ to: token, data: callData }, 'latest']],
  ]
  const rates: number[] = []
  for (const [method, params] of reads) {
    const r = await runReads(target.url, method, params, readOpts)
    log(`${method}: ${r.perSecond}/s (${r.errors} errors)`)
    if (r.errors > 0 && r.requests === 0) throw new Error(`${target.name}: every ${method} failed`)
    rates.push(r.perSecond)
  }
  return { transfers, getBalance: rates[0] ?? 0, blockNumber: rates[1] ?? 0, call: rates[2] ?? 0 }
}

/** Deploys the fixture ERC-20 from dev account 0 and returns its address once mined. */
async function deployToken(url: string): Promise<Hex> {
  const client = new RpcClient(url, 1)
  const [owner] = deriveAccounts(DEV_MNEMONIC, 1)
  if (!owner) throw new Error('no dev account')
  const { Token } = compileContracts()
  const chainId = Number(await client.call<Hex>('eth_chainId'))
  const nonce = Number(await client.call<Hex>('eth_getTransactionCount', [owner.address, 'pending']))
  const head = await client.call<{ baseFeePerGas?: Hex }>('eth_getBlockByNumber', ['latest', false])
  const data = encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['Bench', 'BEN', 10n ** 24n] })
  const tx = {
    type: 'eip1559',
    chainId,
    nonce,
    data,
    gas: 2_000_000n,
    maxFeePerGas: BigInt(head.baseFeePerGas ?? '0x3b9aca00') * 4n + 10n ** 9n,
    maxPriorityFeePerGas: 10n ** 9n,
  } as const
  const sig = ecdsaSign(keccak256(hexToBytes(serializeTransaction(tx))), owner.privateKey)
  const raw = serializeTransaction(tx, { r: bytesToHex(sig.r), s: bytesToHex(sig.s), yParity: sig.recovery })
  const hash = await client.call<Hex>('eth_sendRawTransaction', [raw])
  const deadline = Date.now() + 30_000
  for (;;) {
    const receipt = await client.call<{ contractAddress: Hex; status: Hex } | null>('eth_getTransactionReceipt', [hash])
    if (receipt) {
      client.close()
      if (receipt.status !== '0x1') throw new Error('token deployment reverted')
      return receipt.contractAddress
    }
    if (Date.now() > deadline) throw new Error('token deployment not mined within 30 s')
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function withTarget(start: () => Promise<Target>): Promise<Figures> {
  const target = await start()
  try {
    return await measure(target)
  } finally {
    await target.stop()
  }
}

const only = env.BENCH_ONLY
const results: Record<string, Figures | undefined> = {}
if (only !== 'anvil') {
  const nodeArgs = env.CAIRN_NODE_ARGS ? env.CAIRN_NODE_ARGS.split(' ') : []
  results.cairn = await withTarget(() => startCairn(28545, [], nodeArgs))
}
const anvilBin = findAnvil(env.ANVIL_BIN)
if (only === 'cairn') {
  // skipped on request
} else if (anvilBin) {
  results.anvil = await withTarget(() => startAnvil(anvilBin, 28546, settings.anvilBlockTime))
} else {
  console.log('anvil: not installed, skipped (set ANVIL_BIN, or `cd /tmp && npm i @foundry-rs/anvil@1.7.1`)')
}

const rows: [string, (f: Figures) => number, 'higher' | 'lower', number | undefined][] = [
  ['transfers mined /s', (f) => f.transfers.tps, 'higher', 2],
  ['inclusion p50 ms', (f) => f.transfers.p50Ms, 'lower', undefined],
  ['inclusion p99 ms', (f) => f.transfers.p99Ms, 'lower', undefined],
  ['eth_getBalance /s', (f) => f.getBalance, 'higher', 1],
  ['eth_blockNumber /s', (f) => f.blockNumber, 'higher', 1],
  ['eth_call (view) /s', (f) => f.call, 'higher', 0.5],
]
const { cairn, anvil } = results
const pad = (s: string, n: number) => s.padStart(n)
console.log(
  `\n${'figure'.padEnd(22)}${pad('cairn', 10)}${pad('anvil', 10)}${pad('cairn/anvil', 13)}${pad('target', 9)}`,
)
for (const [name, get, better, target] of rows) {
  const c = cairn ? get(cairn) : undefined
  const a = anvil ? get(anvil) : undefined
  const ratio = c !== undefined && a !== undefined && a > 0 ? (c / a).toFixed(2) : '-'
  const goal = target === undefined ? '' : `≥ ${target}×`
  console.log(
    `${name.padEnd(22)}${pad(c === undefined ? '-' : String(c), 10)}${pad(a === undefined ? '-' : String(a), 10)}${pad(ratio, 13)}${pad(goal, 9)}${better === 'lower' ? '  (lower is better)' : ''}`,
  )
}
console.log(
  `\n${settings.txs} transfers from ${settings.senders} senders, batches of ${settings.batch}; reads: ${settings.connections} connections × ${settings.readSeconds} s; anvil --block-time ${settings.anvilBlockTime}`,
)

// Txpool admission (issue targets: ≥ 20,000/s with senders recovered; recovery bounded by native
// ecrecover): the pool's own bench, in a child process so its heap does not skew the figures above.
if (only !== 'anvil' && env.BENCH_SKIP_ADMISSION !== '1') {
  const { spawnSync } = await import('node:child_process')
  const script = new URL('../../txpool/bench/admission.bench.ts', import.meta.url).pathname
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' })
  const lines = `${r.stdout}`.split('\n').filter((l) => l.startsWith('admission'))
  console.log(`\ntxpool admission (target ≥ 20,000/s pre-recovered):\n${lines.map((l) => `  ${l}`).join('\n')}`)
}
