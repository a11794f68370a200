// Four BFT validators in one process, each a full node (LevelDB datadir, JSON-RPC, libp2p on
// loopback): the consensus messages travel over gossipsub's consensus topic. They commit the same
// blocks, a transaction sent to one lands in a block on all, finality follows the commits, and
// with one validator stopped the other three go on; with two stopped it halts, and resumes
// when they restart from their datadirs, the heights they missed final with the others' certificates.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BftEngine } from '@cairn/consensus'
import { bytesToHex } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../../chain/test/helpers.ts'
import type { StartedNode } from '../../src/node.ts'
import { rpc } from '../cli/run-cli.ts'
import { startValidator, writeBftSetup } from './validators.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-bft-'))
const nodes: (StartedNode | null)[] = []
afterAll(async () => {
  for (const n of nodes) await n?.close()
  rmSync(dir, { recursive: true, force: true })
})

const writeSetup = () =>
  writeBftSetup(dir, {
    seed: 'cairn-bft-int',
    validators: 4,
    chainId: 4242n,
    accounts: ADDRS,
    blockTimeMs: 1000,
    timeouts: { proposeMs: 2000, prevoteMs: 1000, precommitMs: 1000 },
  })
const start = (i: number, genesis: string, bootnodes: string[]) => startValidator(dir, i, genesis, bootnodes)

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const blockHash = async (n: StartedNode, tag: string) =>
  ((await rpc(n.url, 'eth_getBlockByNumber', [tag, false])) as { hash: string } | null)?.hash

describe('BFT over libp2p (4 validators on loopback)', () => {
  it('commit the same blocks, carry a transaction, finalize, go on with one stopped, halt with two, resume on restart', async () => {
    const genesis = writeSetup()
    const first = await start(0, genesis, [])
    nodes.push(first)
    const info = (await rpc(first.url, 'admin_nodeInfo', [])) as { listenAddrs: string[] }
    const boot = info.listenAddrs.filter((a) => a.includes('127.0.0.1'))
    for (let i = 1; i < 4; i++) nodes.push(await start(i, genesis, boot))
    const live = () => nodes.filter((n): n is StartedNode => n !== null)
    const height = async (n: StartedNode) => Number(BigInt((await rpc(n.url, 'eth_blockNumber', [])) as string))

    await waitFor(async () => (await Promise.all(live().map(height))).every((h) => h >= 3), 120_000, 'height 3')
    const chain = first.chain
    const tx = transfer(chain.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 12345n)
    const txHash = (await rpc((nodes[2] as StartedNode).url, 'eth_sendRawTransaction', [
      bytesToHex(tx.serialize()),
    ])) as string
    await waitFor(
      async () =>
        (await Promise.all(live().map((n) => rpc(n.url, 'eth_getTransactionReceipt', [txHash])))).every(
          (r) => r !== null,
        ),
      60_000,
      'the receipt on every node',
    )
    const target = Math.max(...(await Promise.all(live().map(height)))) + 2
    await waitFor(async () => (await Promise.all(live().map(height))).every((h) => h >= target), 60_000, 'more heights')
    for (let h = 1; h <= target; h++) {
      const hex = `0x${h.toString(16)}`
      const hashes = await Promise.all(live().map((n) => blockHash(n, hex)))
      expect(new Set(hashes).size).toBe(1)
    }
    // Finalized is the last commit: never behind the head by more than the block being imported.
    for (const n of live()) {
      const fin = Number(
        BigInt(((await rpc(n.url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string }).number),
      )
      expect(fin).toBeGreaterThanOrEqual(target)
    }
    const commit = (await rpc(first.url, 'cairn_getCommit', ['0x2'])) as { signatures: unknown[] }
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
    // The engine's metrics are exported beside the RPC.
    const metrics = await (await fetch(`${first.url}/metrics`)).text()
    expect(Number(/^cairn_bft_commits_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(target)
    expect(metrics).toMatch(/^cairn_bft_height \d+/m)
    expect(metrics).toMatch(/^cairn_bft_rounds_per_height_count \d+/m)

    // One validator stops: the three others hold more than 2/3 of the power and go on.
    await (nodes[3] as StartedNode).close()
    nodes[3] = null
    const at = Math.max(...(await Promise.all(live().map(height))))
    await waitFor(
      async () => (await Promise.all(live().map(height))).every((h) => h >= at + 3),
      120_000,
      'progress with 3',
    )
    const hex = `0x${(at + 3).toString(16)}`
    expect(new Set(await Promise.all(live().map((n) => blockHash(n, hex)))).size).toBe(1)

    // A second one stops: 2 of 4 is not more than 2/3, the chain halts (and does not fork).
    await (nodes[2] as StartedNode).close()
    nodes[2] = null
    // The event that proves the halt: both live validators have prevoted at one height and wait
    // there (their two prevotes are not > 2/3, so no timeout moves them on), heads one below it.
    const engines = live().map((n) => n.engine as BftEngine)
    await waitFor(
      async () =>
        engines.every((e) => (e.snapshot()?.step ?? 0) >= 2) &&
        new Set(engines.map((e) => e.snapshot()?.height)).size === 1,
      120_000,
      'the live validators waiting in prevote at one height',
    )
    const stuckAt = engines.map((e) => e.snapshot()?.height)
    expect(new Set(stuckAt).size).toBe(1)
    const halted = await Promise.all(live().map(height))
    for (const h of halted) expect(h).toBe((stuckAt[0] as number) - 1)

    // Both come back from their datadirs (chain, keys, signer state): the chain resumes.
    nodes[2] = await start(2, genesis, boot)
    nodes[3] = await start(3, genesis, boot)
    const top = Math.max(...halted)
    await waitFor(async () => (await Promise.all(live().map(height))).every((h) => h >= top + 3), 120_000, 'resume')
    for (let h = 1; h <= top + 3; h++) {
      const hashes = await Promise.all(live().map((n) => blockHash(n, `0x${h.toString(16)}`)))
      expect(new Set(hashes).size, `block ${h}`).toBe(1)
    }
    // The heights validator 3 missed, caught up from its peers (range sync, commits): final there
    // with the certificate the others answer — the same block, the same signers (issue 48 item 6).
    type Commit = { blockHash: string; signatures: { validator: string }[] } | null
    const commitOf = async (n: StartedNode, h: number) => {
      const c = (await rpc(n.url, 'cairn_getCommit', [`0x${h.toString(16)}`])) as Commit
      return c && { blockHash: c.blockHash, signers: c.signatures.map((s) => s.validator) }
    }
    for (let h = at + 1; h <= top; h++) {
      const mine = await commitOf(nodes[3] as StartedNode, h)
      expect(mine, `cairn_getCommit ${h} on the restarted validator`).not.toBeNull()
      expect(mine).toEqual(await commitOf(first, h))
    }
  }, 300_000)
})
