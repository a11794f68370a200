// Block import (issue #8 target 3): a full 30M-gas block of transfers made by one chain (node A)
// and imported by a second chain instance at the same parent (node B), which validates it
// (signatures recovered again: the block comes as RLP bytes), executes it and commits it to its
// own LevelDB. The producer's execution result is never handed over. ERC-20 transfer blocks
// (the e2e fixture token) are reported beside it.
//   node --import tsx packages/node/bench/import.ts   (BENCH_IMPORT_BLOCKS=3 blocks of each kind)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BlockTxSource, Chain, devGenesis, type SenderRecovery, workerRecovery } from '@cairn/chain'
import { devChainRules } from '@cairn/consensus'
import { createCustomCrypto, initCrypto, keccak256, RecoverPool } from '@cairn/crypto'
import { LevelKV } from '@cairn/db'
import { bytesToHex, type Hex, hexToBytes, silentLogger } from '@cairn/utils'
import { type Block, createBlockFromRLP } from '@ethereumjs/block'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, generateAddress, privateToAddress } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData } from 'viem'
import { compileContracts, tokenAbi } from '../test/e2e/contracts.ts'

export interface ImportFigure {
  kind: 'transfers' | 'erc20'
  txs: number
  gasUsed: number
  /** Milliseconds to import each block into node B (decode + validate + execute + commit), in order. */
  ms: number[]
  /** Of which executing (the rest: decoding, validation with signature recovery, commit). */
  executeMs: number[]
  /** Process CPU time (all threads) per import: less sensitive to a shared machine than wall time. */
  cpuMs: number[]
  /** Median of the blocks after the first (warm JIT); the first alone when there is one. */
  medianMs: number
  /** Gas per second at the median. */
  gasPerSecond: number
}

const SENDERS = 100

function keyOf(i: number): Uint8Array {
  return keccak256(new TextEncoder().encode(`cairn import bench sender ${i}`))
}

function listSource(txs: TypedTransaction[]): BlockTxSource {
  let i = 0
  return { peek: () => txs[i], shift: () => void i++, pop: () => void i++ }
}

async function openChain(
  dir: string,
  genesis: unknown,
  recovery?: SenderRecovery,
): Promise<{ chain: Chain; close: () => Promise<void> }> {
  const kv = new LevelKV({ path: dir })
  await kv.open()
  const chain = await Chain.open(
    { genesis },
    {
      kv,
      engine: devChainRules,
      logger: silentLogger,
      metrics: null,
      customCrypto: createCustomCrypto(),
      ...(recovery ? { recovery } : {}),
    },
  )
  return { chain, close: () => kv.close() }
}

/** Builds and commits a block on A from `txs`; returns its bytes, as a peer would send them. */
async function produce(a: Chain, txs: TypedTransaction[]): Promise<{ rlp: Uint8Array; block: Block }> {
  const parent = a.head
  const built = await a.build(parent, { timestamp: parent.header.timestamp + 12n }, listSource(txs))
  if (built.rejected.length > 0) throw new Error(`node A rejected ${built.rejected[0]?.reason}`)
  await a.committer.commit(built)
  return { rlp: built.block.serialize(), block: built.block }
}

interface Timing {
  ms: number
  executeMs: number
  cpuMs: number
}

/** Milliseconds each chain spent executing blocks, timed through its spans (`Chain.trace`). */
const executing = new WeakMap<Chain, { ms: number }>()

/** The execution time of `chain` so far: a tracer on its `block.execute` spans, added on first use. */
function executionTimer(chain: Chain): { ms: number } {
  let spent = executing.get(chain)
  if (spent) return spent
  const timer = { ms: 0 }
  spent = timer
  executing.set(chain, timer)
  chain.trace({
    enabled: true,
    wrapMethod(obj, key, name) {
      if (name !== 'block.execute') return
      const target = obj as Record<string, (...args: unknown[]) => Promise<unknown>>
      const method = target[key] as (...args: unknown[]) => Promise<unknown>
      target[key] = async function (this: unknown, ...args: unknown[]) {
        const t = performance.now()
        try {
          return await method.apply(this, args)
        } finally {
          timer.ms += performance.now() - t
        }
      }
    },
  })
  return timer
}

/** Imports `rlp` into B from scratch (decoded again: no cached hashes or senders). */
async function importInto(b: Chain, rlp: Uint8Array, want: Block): Promise<Timing> {
  const timer = executionTimer(b)
  const executed0 = timer.ms
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const block = createBlockFromRLP(rlp, { common: b.common })
  // Source `file`: the blocks run ahead of the clock (12 s apart, made at once).
  const res = await b.processBlock(block, { source: 'file' })
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  if (res.status !== 'imported' || !res.head || bytesToHex(b.head.hash()) !== bytesToHex(want.hash())) {
    throw new Error(`node B did not take block ${want.header.number} as its head (${res.status})`)
  }
  const executeMs = timer.ms - executed0
  if (executeMs === 0) throw new Error('node B did not execute the block')
  return { ms, executeMs, cpuMs: (cpu.user + cpu.system) / 1000 }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(s.length / 2)] as number
}

function figure(kind: ImportFigure['kind'], txs: number, gasUsed: bigint, timings: Timing[]): ImportFigure {
  const ms = timings.map((t) => t.ms)
  const medianMs = median(ms.length > 1 ? ms.slice(1) : ms)
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    kind,
    txs,
    gasUsed: Number(gasUsed),
    ms: ms.map(round),
    executeMs: timings.map((t) => round(t.executeMs)),
    cpuMs: timings.map((t) => round(t.cpuMs)),
    medianMs: round(medianMs),
    gasPerSecond: Math.round(Number(gasUsed) / (medianMs / 1000)),
  }
}

/** Runs the import bench: `blocks` blocks of transfers, then of ERC-20 transfers. */
export async function runImport(blocks = 3): Promise<ImportFigure[]> {
  await initCrypto()
  const keys = Array.from({ length: SENDERS }, (_, i) => keyOf(i))
  const addrs = keys.map((k) => bytesToHex(privateToAddress(k)) as Hex)
  const genesis = devGenesis({ accounts: addrs, balance: 10n ** 24n })
  const root = mkdtempSync(join(tmpdir(), 'cairn-import-bench-'))
  const a = await openChain(join(root, 'a'), genesis)
  // Node B recovers senders on worker threads as `cairn start` does (BENCH_IMPORT_WORKERS=0: inline).
  const recoverPool = process.env.BENCH_IMPORT_WORKERS === '0' ? undefined : RecoverPool.create()
  const b = await openChain(join(root, 'b'), genesis, recoverPool ? workerRecovery(recoverPool) : undefined)
  try {
    const common = a.chain.common
    const nonces = keys.map(() => 0n)
    const fee = { maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n }
    let fresh = 0
    const out: ImportFigure[] = []

    // 1. Plain transfers: as many as 30M gas holds (1,428), to fresh addresses.
    const perBlock = Number(a.chain.head.header.gasLimit / 21_000n)
    const transferMs: Timing[] = []
    let gasUsed = 0n
    for (let n = 0; n < blocks; n++) {
      const txs: TypedTransaction[] = []
      for (let i = 0; i < perBlock; i++) {
        const s = i % SENDERS
        const to = `0xaa${(++fresh).toString(16).padStart(38, '0')}` as Hex
        const nonce = nonces[s] as bigint
        nonces[s] = nonce + 1n
        txs.push(
          createFeeMarket1559Tx({ nonce, to, value: 1n, gasLimit: 21_000n, ...fee }, { common }).sign(
            keys[s] as Uint8Array,
          ),
        )
      }
      const { rlp, block } = await produce(a.chain, txs)
      if (block.transactions.length !== perBlock) throw new Error(`block holds ${block.transactions.length} transfers`)
      gasUsed = block.header.gasUsed
      transferMs.push(await importInto(b.chain, rlp, block))
    }
    out.push(figure('transfers', perBlock, gasUsed, transferMs))

    // 2. ERC-20 transfers of the fixture token, from holders to fresh addresses.
    const { Token } = compileContracts()
    const deploy = createFeeMarket1559Tx(
      {
        nonce: nonces[0] as bigint,
        data: encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['Bench', 'BEN', 10n ** 30n] }),
        gasLimit: 3_000_000n,
        ...fee,
      },
      { common },
    ).sign(keys[0] as Uint8Array)
    nonces[0] = (nonces[0] as bigint) + 1n
    const dep = await produce(a.chain, [deploy])
    await importInto(b.chain, dep.rlp, dep.block)
    const receipt = (await a.chain.getReceipts(dep.block.hash()))?.[0]
    if (receipt?.status !== 1) throw new Error('token deployment failed')
    const tokenAddr = bytesToHex(
      generateAddress(hexToBytes(addrs[0] as Hex), bigIntToUnpaddedBytes(deploy.nonce)),
    ) as Hex
    // Spread tokens to every sender (one block), so the transfer blocks use many senders.
    const spread: TypedTransaction[] = []
    for (let s = 1; s < SENDERS; s++) {
      spread.push(
        erc20(common, keys[0] as Uint8Array, nonces[0] as bigint, tokenAddr, addrs[s] as Hex, 10n ** 24n, fee),
      )
      nonces[0] = (nonces[0] as bigint) + 1n
    }
    const sp = await produce(a.chain, spread)
    await importInto(b.chain, sp.rlp, sp.block)
    const erc20Ms: Timing[] = []
    let erc20Txs = 0
    for (let n = 0; n < blocks; n++) {
      const txs: TypedTransaction[] = []
      // ~52k gas each (a new balance slot): more than fit, the builder stops at the gas limit.
      for (let i = 0; i < 700; i++) {
        const s = i % SENDERS
        const to = `0xbb${(++fresh).toString(16).padStart(38, '0')}` as Hex
        txs.push(erc20(common, keys[s] as Uint8Array, nonces[s] as bigint, tokenAddr, to, 1n, fee))
        nonces[s] = (nonces[s] as bigint) + 1n
      }
      const { rlp, block } = await produce(a.chain, txs)
      // Transactions the block could not hold were skipped: their senders' later nonces are unusable.
      for (let i = block.transactions.length; i < txs.length; i++) {
        const s = i % SENDERS
        nonces[s] = (nonces[s] as bigint) - 1n
      }
      erc20Txs = block.transactions.length
      gasUsed = block.header.gasUsed
      erc20Ms.push(await importInto(b.chain, rlp, block))
    }
    out.push(figure('erc20', erc20Txs, gasUsed, erc20Ms))
    return out
  } finally {
    await a.close()
    await b.close()
    await recoverPool?.close()
    rmSync(root, { recursive: true, force: true })
  }
}

function erc20(
  common: Chain['common'],
  key: Uint8Array,
  nonce: bigint,
  token: Hex,
  to: Hex,
  amount: bigint,
  fee: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
): TypedTransaction {
  const data = encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [to, amount] })
  return createFeeMarket1559Tx({ nonce, to: token, data, gasLimit: 60_000n, ...fee }, { common }).sign(key)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const blocks = Number(process.env.BENCH_IMPORT_BLOCKS ?? 3)
  const figures = await runImport(blocks)
  if (process.env.BENCH_JSON === '1') console.log(`RESULT ${JSON.stringify(figures)}`)
  for (const f of figures) {
    console.log(
      `${f.kind.padEnd(10)} ${f.txs} txs, ${f.gasUsed} gas: ${f.medianMs} ms median, ${(f.gasPerSecond / 1e6).toFixed(1)} Mgas/s (per block: ${f.ms.join(', ')} ms; executing ${f.executeMs.join(', ')} ms; CPU ${f.cpuMs.join(', ')} ms)`,
    )
  }
}
