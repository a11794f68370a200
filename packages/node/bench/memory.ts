// Memory (issue #8 target 4): grows a chain to BENCH_MEMORY_ACCOUNTS (1,000,000) accounts with
// full blocks of transfers to fresh addresses, built and committed in process over a LevelDB in a
// temporary directory (the node's own path: executor, import pipeline, store), while sampling the
// process's resident set. State that does not fit the caches must be read back from disk, not held:
// peak RSS must stay under 1 GB. BENCH_MEMORY_ACCOUNTS=100000 is a quick run (about a minute).
//   node --import tsx packages/node/bench/memory.ts
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getHeapStatistics } from 'node:v8'
import { type BlockTxSource, Chain, devGenesis } from '@cairn/chain'
import { devChainRules } from '@cairn/consensus'
import { createCustomCrypto, initCrypto, keccak256 } from '@cairn/crypto'
import { LevelKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, privateToAddress } from '@ethereumjs/util'

export interface MemoryFigure {
  accounts: number
  blocks: number
  /** Largest resident set seen (the kernel's high-water mark), in MB. */
  peakRssMb: number
  /**
   * Largest anonymous (private) resident memory seen, in MB: the resident set without file-backed
   * pages — LevelDB maps its table files, and the pages it read count in RSS though the kernel can
   * drop them. Undefined without /proc.
   */
  peakAnonMb?: number
  /** File-backed resident memory at the end (LevelDB's mapped tables), in MB. */
  endFileMb?: number
  /** Resident set at the end, after the last block, in MB. */
  endRssMb: number
  /** V8 heap used at the end, in MB. */
  endHeapMb: number
  /** V8's heap limit in force (`--max-old-space-size` and the young generation), in MB. */
  heapLimitMb: number
  seconds: number
  /** Checked at the end: a few of the first funded accounts, read back at the head (from disk). */
  verified: boolean
}

const SENDERS = 200

/** Grows a fresh chain by `accounts` new accounts; `onProgress` gets a line every ~10%. */
export async function runMemory(accounts: number, onProgress?: (line: string) => void): Promise<MemoryFigure> {
  await initCrypto()
  const keys = Array.from({ length: SENDERS }, (_, i) =>
    keccak256(new TextEncoder().encode(`cairn memory bench sender ${i}`)),
  )
  const addrs = keys.map((k) => bytesToHex(privateToAddress(k)) as Hex)
  const dir = mkdtempSync(join(tmpdir(), 'cairn-memory-bench-'))
  const kv = new LevelKV({ path: dir })
  await kv.open()
  let peak = process.memoryUsage.rss()
  let peakAnon = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
    peakAnon = Math.max(peakAnon, procStatusKb('RssAnon') ?? 0)
  }, 100)
  const t0 = performance.now()
  try {
    // A 60M gas limit: blocks of 1,428 transfers (30M gas) sit at the EIP-1559 target, so the base
    // fee stays put over the hundreds of blocks (full blocks would raise it 12.5% each).
    const genesis = { ...(devGenesis({ accounts: addrs, balance: 10n ** 24n }) as object), gasLimit: '0x3938700' }
    const chain = await Chain.open(
      { genesis },
      { kv, engine: devChainRules, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
    )
    const common = chain.common
    const perBlock = Number(chain.head.header.gasLimit / 2n / 21_000n)
    const nonces = keys.map(() => 0n)
    let made = 0
    let blocks = 0
    let nextReport = accounts / 10
    while (made < accounts) {
      const n = Math.min(perBlock, accounts - made)
      // Signed per block, not up front: a million signed transactions would dwarf the chain itself.
      const txs: TypedTransaction[] = []
      for (let i = 0; i < n; i++) {
        const s = (made + i) % SENDERS
        const nonce = nonces[s] as bigint
        nonces[s] = nonce + 1n
        txs.push(
          createFeeMarket1559Tx(
            {
              nonce,
              to: freshAddress(made + i),
              value: 1n,
              gasLimit: 21_000n,
              maxFeePerGas: 10n ** 11n,
              maxPriorityFeePerGas: 1n,
            },
            { common },
          ).sign(keys[s] as Uint8Array),
        )
      }
      const parent = chain.head
      let i = 0
      const source: BlockTxSource = { peek: () => txs[i], shift: () => void i++, pop: () => void i++ }
      const built = await chain.build(parent, { timestamp: parent.header.timestamp + 12n }, source)
      if (built.block.transactions.length !== n)
        throw new Error(`block ${blocks + 1} holds ${built.block.transactions.length} of ${n}`)
      await chain.committer.commit(built)
      made += n
      blocks++
      if (made >= nextReport) {
        nextReport += accounts / 10
        // Under --expose-gc: the live heap (a full GC first; the peak RSS figure is then lower than a real run's).
        const gc = (globalThis as { gc?: () => void }).gc
        gc?.()
        const m = process.memoryUsage()
        const mb = (x: number) => Math.round(x / 2 ** 20)
        onProgress?.(
          `${made} accounts, ${blocks} blocks, RSS ${mb(m.rss)} MB (heap ${mb(m.heapUsed)} MB${gc ? ' live' : ''}), ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        )
      }
    }
    const seconds = (performance.now() - t0) / 1000
    // The first accounts were created hundreds of blocks ago: read back through a fresh view.
    const state = chain.stateAt(chain.head.header.stateRoot)
    let verified = true
    for (const k of [0, 1, Math.floor(accounts / 2)]) {
      const acc = await state.getAccount(new Address(Buffer.from(freshAddress(k).slice(2), 'hex')))
      if (acc?.balance !== 1n) verified = false
    }
    const mem = process.memoryUsage()
    peak = Math.max(peak, mem.rss, process.resourceUsage().maxRSS * 1024)
    peakAnon = Math.max(peakAnon, procStatusKb('RssAnon') ?? 0)
    const file = procStatusKb('RssFile')
    return {
      accounts: made,
      blocks,
      peakRssMb: Math.round(peak / 2 ** 20),
      ...(peakAnon > 0 ? { peakAnonMb: Math.round(peakAnon / 1024) } : {}),
      ...(file !== undefined ? { endFileMb: Math.round(file / 1024) } : {}),
      endRssMb: Math.round(mem.rss / 2 ** 20),
      endHeapMb: Math.round(mem.heapUsed / 2 ** 20),
      heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
      seconds: Math.round(seconds),
      verified,
    }
  } finally {
    clearInterval(sampler)
    await kv.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A `kB` field of /proc/self/status (RssAnon, RssFile…), or undefined where there is none. */
function procStatusKb(field: string): number | undefined {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

function freshAddress(i: number): Hex {
  return `0xdd${(i + 1).toString(16).padStart(38, '0')}` as Hex
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const accounts = Number(process.env.BENCH_MEMORY_ACCOUNTS ?? 1_000_000)
  const f = await runMemory(accounts, (line) => console.error(`  ${line}`))
  if (process.env.BENCH_JSON === '1') console.log(`RESULT ${JSON.stringify(f)}`)
  console.log(
    `memory: ${f.accounts} accounts in ${f.blocks} blocks, peak RSS ${f.peakRssMb} MB (anonymous ${f.peakAnonMb ?? '?'} MB; end ${f.endRssMb} MB, of which file-backed ${f.endFileMb ?? '?'} MB, heap ${f.endHeapMb} MB; heap limit ${f.heapLimitMb} MB), ${f.seconds} s, state read back: ${f.verified ? 'ok' : 'WRONG'}`,
  )
}
