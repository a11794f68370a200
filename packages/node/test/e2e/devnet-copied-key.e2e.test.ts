// The copied validator key, a classic operator mistake: a 4-validator devnet (`cairn devnet init`
// + `cairn devnet start`) and a fifth process, `cairn start` with a copy of validator 3's key and
// its own datadir and pace, so two processes sign as validator 3. The chain must keep finalizing
// the same blocks on every node, no other validator may be named in evidence, and the copies'
// conflicting votes end up in a block naming validator 3 (`cairn_getEvidence`) on every node, and
// the staking contract slashes, jails and tombstones validator 3 once.
import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { type Abi, createPublicClient, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv, rpc } from '../cli/run-cli.ts'
import { initDevnet } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-twin-'))
const started: ChildProcess[] = []
/** The pids `cairn devnet start` printed: its nodes run in process groups of their own. */
const nodePids: number[] = []
afterAll(() => {
  const pids = [...nodePids]
  for (const p of started) if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) pids.push(p.pid)
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true })
})

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await pred()) return
    } catch {}
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

interface RpcEvidence {
  validator: string
  height: string
  round: string
  voteType: string
  blockHashes: [string | null, string | null]
}

/** Spawns `cairn …` in its own process group, its output kept (for the assertions' messages). */
function cairn(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
    env: cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let out = ''
  child.stdout?.on('data', (d) => {
    out += String(d)
    for (const m of String(d).matchAll(/\[devnet\] node-\d+ pid (\d+)/g)) nodePids.push(Number(m[1]))
  })
  child.stderr?.on('data', (d) => {
    out += String(d)
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, out: () => out, exited }
}

describe('cairn devnet with validator 3 key copied to a fifth process', () => {
  // Two copies of one key run the same deterministic machine and mostly sign the very same votes.
  // This test was skipped for a while: in 1 of 2 repeat runs no double vote came in 240 s. The
  // cause (shown in packages/consensus/test/bft/copied-key.test.ts): a node starts each height
  // `blockTimeMs` after it entered the previous one, so the copies' phases, set when the twin
  // caught up, persist; the machine takes the first proposal of a round from its proposer, so the
  // later copy already holds the earlier copy's proposal when it enters validator 3's round,
  // prevotes it and proposes nothing: the copies only conflicted while their phases happened to
  // be within a build-and-delivery time of each other (the twin's own pool did not help, nor would
  // keeping node 3 out of the twin's peers: nodes 1, 2 and 4 relay every signed proposal). The
  // twin now runs with its own pace, a genesis copy whose `blockTimeMs` and `proposeMs` are 0: it
  // starts each height at its commit and, when the round's proposer has not proposed yet (an honest
  // proposer waits out the block time), prevotes nil at once, while node 3 prevotes the proposal
  // when it comes. A nil/block double vote in (nearly) every height validator 3 does not propose.
  it('keeps finalizing the same blocks; only validator 3 is named in evidence, committed on every node', async () => {
    const dn = join(dir, 'dn')
    const { base, p2pBase } = await initDevnet(dn)
    // The devnet's validators are bonded in the staking contract: validator 3 is node 3's key.
    const keyOf = (i: number) => readFileSync(join(dn, `node-${i}`, 'keys', 'validator.key'), 'utf8').trim()
    const v3 = privateKeyToAccount(`0x${keyOf(3)}`).address.toLowerCase()

    // The twin: node 3's config with its own datadir (a new node identity, validator 3's key
    // copied), its own ports, every devnet node a bootnode. Outside `node-N.toml`, so `devnet
    // start` does not run it.
    const twinDir = join(dir, 'twin')
    mkdirSync(join(twinDir, 'keys'), { recursive: true })
    copyFileSync(join(dn, 'node-3', 'keys', 'validator.key'), join(twinDir, 'keys', 'validator.key'))
    const twinToml = readFileSync(join(dn, 'node-3.toml'), 'utf8')
      .replace(/^datadir = .*$/m, `datadir = ${JSON.stringify(twinDir)}`)
      .replace(/^port = (\d+)$/gm, (_, p: string) => `port = ${Number(p) + 2}`)
      .replace(/^bootnodes = \[(.*)\]$/m, (_, list: string) => {
        const others = readFileSync(join(dn, 'node-2.toml'), 'utf8').match(/^bootnodes = \[(.*)\]$/m)?.[1] ?? ''
        // node-2's bootnodes name nodes 1, 3 and 4; with node-3's (1, 2, 4) that is all four.
        return `bootnodes = [${[...new Set([...list.split(', '), ...others.split(', ')])].join(', ')}]`
      })
    expect(twinToml).toContain(`port = ${base + 4}`)
    expect(twinToml).toContain(`port = ${p2pBase + 4}`)
    // The twin's own pace: the same genesis (block, hash, validators) with no block-time wait and
    // a zero propose timeout (the genesis's `config.cairn.bft` is each node's own reading of it).
    const g = JSON.parse(readFileSync(join(dn, 'genesis.json'), 'utf8')) as {
      config: { cairn: { bft: Record<string, unknown> } }
    }
    g.config.cairn.bft = { ...g.config.cairn.bft, blockTimeMs: 0, timeouts: { proposeMs: 0 } }
    writeFileSync(join(dir, 'twin-genesis.json'), JSON.stringify(g, null, 2))
    writeFileSync(
      join(dir, 'twin.toml'),
      twinToml.replace(/^genesis = .*$/m, `genesis = ${JSON.stringify(join(dir, 'twin-genesis.json'))}`),
    )

    const devnet = cairn(['devnet', 'start', '--dir', dn])
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const honest = [0, 1, 3].map((k) => urls[k] as string)
    const blockNumber = async (url: string) => BigInt((await rpc(url, 'eth_blockNumber')) as string)
    const finalized = async (url: string) =>
      (await rpc(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string; hash: string }
    await waitFor(
      async () => (await Promise.all(urls.map(blockNumber))).every((n) => n >= 2n),
      240_000,
      'all four nodes at height 2',
    )

    const twin = cairn(['start', '--config', join(dir, 'twin.toml')])
    const twinUrl = `http://127.0.0.1:${base + 4}`
    const startedAt = (await Promise.all(urls.map(blockNumber))).reduce((a, b) => (a > b ? a : b))
    // The twin catches up, then signs as validator 3 alongside node 3.
    await waitFor(async () => (await blockNumber(twinUrl)) >= startedAt, 120_000, 'the twin to catch up')

    // Scan every node's blocks for evidence until one names validator 3 on all four nodes.
    const evidenceOf = async (url: string, from: bigint, to: bigint) => {
      const found: (RpcEvidence & { block: bigint })[] = []
      for (let n = from; n <= to; n++) {
        const list = (await rpc(url, 'cairn_getEvidence', [`0x${n.toString(16)}`])) as RpcEvidence[]
        for (const e of list) found.push({ ...e, block: n })
      }
      return found
    }
    const caughtUpAt = Date.now()
    let committed: (RpcEvidence & { block: bigint }) | undefined
    let scanned = 0n
    await waitFor(
      async () => {
        const top = (await Promise.all(urls.map(blockNumber))).reduce((a, b) => (a < b ? a : b))
        const ev = await evidenceOf(urls[0] as string, scanned + 1n, top)
        scanned = top
        committed = ev.find((e) => e.validator.toLowerCase() === v3)
        return committed !== undefined
      },
      120_000,
      'evidence naming validator 3 in a block',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- twin ---\n${twin.out().slice(-4000)}`)
    })
    const carrier = committed?.block as bigint
    const evidenceAfterMs = Date.now() - caughtUpAt
    // Every node holds that block and answers the same evidence for it.
    await waitFor(
      async () => (await Promise.all(urls.map(blockNumber))).every((n) => n >= carrier),
      60_000,
      'every node at the evidence block',
    )
    const answers = await Promise.all(urls.map((u) => rpc(u, 'cairn_getEvidence', [`0x${carrier.toString(16)}`])))
    for (const a of answers) expect(a).toEqual(answers[0])
    expect((answers[0] as RpcEvidence[]).some((e) => e.validator.toLowerCase() === v3)).toBe(true)

    // The chain keeps finalizing, the same blocks on every honest node (and node 3).
    const f0 = (await Promise.all(honest.map(finalized))).map((f) => BigInt(f.number)).reduce((a, b) => (a > b ? a : b))
    await waitFor(
      async () => (await Promise.all(honest.map(finalized))).every((f) => BigInt(f.number) >= f0 + 3n),
      120_000,
      'three more finalized blocks',
    )
    const top = (await Promise.all(urls.map(blockNumber))).reduce((a, b) => (a < b ? a : b))
    for (let n = 1n; n <= top; n++) {
      const hashes = await Promise.all(
        urls.map((u) =>
          rpc(u, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false]).then((b) => (b as { hash: string }).hash),
        ),
      )
      expect(new Set(hashes).size, `block ${n}`).toBe(1)
    }
    // No honest validator double-signed: every piece of evidence in the chain names validator 3.
    const all = await evidenceOf(urls[0] as string, 1n, top)
    expect(all.length).toBeGreaterThan(0)
    for (const e of all) expect(e.validator.toLowerCase()).toBe(v3)
    // Each is a real conflict: two different votes of one type. Which kind comes first is timing:
    // mostly the twin's nil prevote against node 3's for the block, but in a height validator 3
    // proposes the copies can propose and prevote two different blocks (CI, 28 November 2026); once
    // one is committed validator 3 is jailed and out of the set, so later conflicts are not evidence.
    for (const e of all) {
      expect(['prevote', 'precommit']).toContain(e.voteType)
      expect(e.blockHashes[0], `${e.voteType} at ${e.height}`).not.toBe(e.blockHashes[1])
    }

    // Staking: validator 3 is slashed once (5% of its 1,000-coin bond, however many pieces of
    // evidence name it), jailed and tombstoned on every node, and out of the set.
    for (const url of honest) {
      const client = createPublicClient({ transport: http(url) })
      const read = (functionName: string, args: unknown[] = []) =>
        client.readContract({ address: STAKING_ADDRESS as Hex, abi: staking.abi as Abi, functionName, args })
      const v = (await read('getValidator', [v3])) as unknown[]
      expect(v[1]).toBe(950n * 10n ** 18n)
      expect(v[4]).toBe(true)
      expect(v[5]).toBe(true)
      expect(await read('burned')).toBe(50n * 10n ** 18n)
      const set = (await rpc(url, 'cairn_getValidators', ['latest'])) as { validators: { address: string }[] }
      expect(set.validators.map((x) => x.address.toLowerCase())).not.toContain(v3)
    }

    // Stop everything that was started.
    process.kill(twin.child.pid as number, 'SIGINT')
    await twin.exited
    process.kill(devnet.child.pid as number, 'SIGINT')
    expect(await devnet.exited).toBe(0)
    expect(devnet.out().match(/\[devnet\] node-\d exited/g)?.length).toBe(4)
    // eslint-disable-next-line no-console
    console.log(
      `copied key: evidence for validator 3 (${committed?.voteType}, height ${BigInt(committed?.height ?? 0)}, round ${BigInt(committed?.round ?? 0)}, hashes ${JSON.stringify(committed?.blockHashes)}) in block ${carrier}, ${evidenceAfterMs} ms after the twin caught up; ${all.length} piece(s) in blocks 1..${top}`,
    )
  }, 600_000)
})
