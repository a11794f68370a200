// The crash harness: starts the real node on a temp datadir, drives a mixed load, kill -9s it at
// random moments, and after every kill checks the datadir offline and restarts the node.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkChain, openStoredChain } from '@cairn/chain'
import { LevelKV } from '@cairn/db'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { type NodeHandle, rpcRequest, startNode } from '../e2e/harness.ts'
import { newLoadState, runLoad } from './load.ts'

export interface CrashRunOptions {
  kills: number
  /** Random kill delay after the load starts, in ms. */
  minDelayMs?: number
  maxDelayMs?: number
  log?: (line: string) => void
  /** Keep the datadir (for inspection) instead of removing it. */
  keep?: boolean
  /**
   * Seal every N seconds instead of on demand: kills then land between admission and sealing,
   * with acknowledged transactions waiting in the pool (they must come back from the journal).
   */
  blockTime?: number
}

export interface CrashRunResult {
  killsSurvived: number
  violations: string[]
  receiptsSeen: number
  txsSent: number
  headNumber: bigint
  datadir: string
}

/** Runs the crash test; never throws for a violation (they are returned). */
export async function runCrashTest(opts: CrashRunOptions): Promise<CrashRunResult> {
  const log = opts.log ?? (() => {})
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-crash-'))
  const state = newLoadState()
  const violations: string[] = []
  const args = opts.blockTime ? ['--block-time', String(opts.blockTime)] : []
  let node: NodeHandle | undefined = await startNode('cairn', { datadir, args })
  let kills = 0
  let head = 0n
  try {
    while (kills < opts.kills) {
      const current = node as NodeHandle
      const delay = (opts.minDelayMs ?? 300) + Math.random() * ((opts.maxDelayMs ?? 2500) - (opts.minDelayMs ?? 300))
      let stopped = false
      const load = runLoad(current.url, state, () => stopped)
      await new Promise((r) => setTimeout(r, delay))
      process.kill(-current.pid, 'SIGKILL')
      stopped = true
      const code = await current.stop()
      await load
      kills++
      node = undefined
      const found = await checkDatadir(datadir, state.seen)
      head = found.head
      for (const v of found.violations) violations.push(`kill ${kills}: ${v}`)
      log(
        `kill ${kills}/${opts.kills} after ${Math.round(delay)} ms (exit ${code}): head ${found.head}, ${state.seen.length} receipts seen, ${found.violations.length} violation(s)`,
      )
      try {
        node = await startNode('cairn', { datadir, args })
      } catch (err) {
        violations.push(`kill ${kills}: the node did not start again: ${(err as Error).message.split('\n')[0]}`)
        break
      }
      // The node resumes from the last committed block: it may already have sealed on top of it
      // (the journal brings acknowledged transactions back, and instant mode mines them at once).
      const res = await rpcRequest<{ hash: string } | null>(node.url, 'eth_getBlockByNumber', [
        `0x${found.head.toString(16)}`,
        false,
      ])
      const resumed = 'result' in res && res.result !== null ? res.result.hash : 'none'
      if (resumed !== found.headHash) {
        violations.push(
          `kill ${kills}: after restart block ${found.head} is ${resumed}, the last committed block was ${found.headHash}`,
        )
      }
      for (const v of await lostAcknowledged(node.url, state.acknowledged)) violations.push(`kill ${kills}: ${v}`)
    }
  } finally {
    if (node) await node.stop()
  }
  if (state.errors.length) log(`load errors (not violations): ${[...new Set(state.errors)].slice(0, 5).join('; ')}`)
  if (!opts.keep) rmSync(datadir, { recursive: true, force: true })
  return {
    killsSurvived: kills,
    violations,
    receiptsSeen: state.seen.length,
    txsSent: state.sent,
    headNumber: head,
    datadir,
  }
}

/**
 * Every transaction whose hash the node answered must be mined or pooled after the restart: an
 * answered hash is a promise (the journal makes it durable before answering).
 */
async function lostAcknowledged(url: string, acknowledged: string[]): Promise<string[]> {
  const lost: string[] = []
  for (const hash of acknowledged) {
    const res = await rpcRequest<unknown>(url, 'eth_getTransactionByHash', [hash])
    if (!('result' in res) || res.result === null) lost.push(`acknowledged tx ${hash} is neither mined nor pooled`)
  }
  return lost
}

/**
 * Opens the killed node's datadir directly (before any restart repairs it) and checks: blocks,
 * receipts, indexes, state roots (every block's trie walked), and every receipt the load saw.
 */
async function checkDatadir(
  datadir: string,
  seen: { hash: string; blockNumber: bigint; blockHash: string }[],
): Promise<{ head: bigint; headHash: string; violations: string[] }> {
  const kv = new LevelKV({ path: join(datadir, 'chaindata') })
  await kv.open()
  try {
    const view = await openStoredChain(kv)
    const report = await checkChain(view, { fullState: true })
    const violations = report.problems.map((p) => p.message)
    const head = report.head?.number ?? -1n
    for (const r of seen) {
      const loc = await view.blocks.getTxLocation(hexToBytes(r.hash))
      if (!loc) violations.push(`tx ${r.hash} (receipt seen in block ${r.blockNumber}) is not in the chain`)
      else if (bytesToHex(loc.blockHash) !== r.blockHash) {
        violations.push(`tx ${r.hash} is in block ${bytesToHex(loc.blockHash)}, its receipt said ${r.blockHash}`)
      }
      if (r.blockNumber > head) violations.push(`tx ${r.hash}'s block ${r.blockNumber} is above the head ${head}`)
    }
    return { head, headHash: report.head?.hash ?? 'none', violations }
  } finally {
    await kv.close()
  }
}
