// Consensus key rotation on real processes, as docs/operations/keys.md tells an operator: a
// 4-validator staking devnet whose node 2 holds a next key (DATADIR/keys/validator.next.key) from
// its start; `cairn staking rotate-key` sends the rotation while signed transfers flow to every
// node; the set has the new key two blocks after the transaction's, node 2's precommits in the
// certificates are the new key's from there (the old key's before), no height is skipped and every
// acknowledged transfer is mined exactly once. Then, with no restart, node 2 has promoted its key
// files (validator.key is the new key, the old one kept as retired); restarted, it signs with it.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBftExtra } from '@cairn/consensus'
import { bytesToHex, getAddress, type Hex, hexToBytes, keccak256 } from 'viem'
import { mnemonicToAccount, privateKeyToAddress } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv, rpc, runCli } from '../cli/run-cli.ts'
import { freePortRange } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-rotation-'))
const nodePids: number[] = []
/** node number → pid, from `cairn devnet start`'s output. */
const pidOf = new Map<number, number>()
/** node number → resolves when `cairn devnet start` says it exited. */
const exitOf = new Map<number, () => void>()
let devnet: ChildProcess | undefined
let output = ''
/** Node 2's lines saying it promoted its key (kept whole: `output` is cut under load). */
const promotedLines: string[] = []
afterAll(() => {
  for (const pid of [...nodePids, ...(devnet?.pid !== undefined ? [devnet.pid] : [])]) {
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
    } catch (err) {
      if ((err as { final?: boolean }).final) throw err
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the nodes said:\n${output.slice(-5000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Calls `fn` with each whole line of a stream. */
function lines(fn: (line: string) => void): (d: unknown) => void {
  let partial = ''
  return (d) => {
    const text = partial + String(d)
    const all = text.split('\n')
    partial = all.pop() ?? ''
    for (const line of all) fn(line)
  }
}

const height = async (url: string) => BigInt((await rpc(url, 'eth_blockNumber')) as string)
const hex = (n: bigint) => `0x${n.toString(16)}`
const setAt = async (url: string, n: bigint | 'latest') =>
  (
    (await rpc(url, 'cairn_getValidators', [n === 'latest' ? n : hex(n)])) as {
      validators: { address: string; votingPower?: string; power?: string }[]
    }
  ).validators.map((v) => v.address.toLowerCase())
const blockAt = async (url: string, n: bigint) =>
  (await rpc(url, 'eth_getBlockByNumber', [hex(n), false])) as {
    hash: Hex
    parentHash: Hex
    extraData: Hex
    transactions: Hex[]
  } | null
/** The validators whose precommits for block `n` the next block carries, through the set of `n`. */
const signersOf = async (url: string, n: bigint) => {
  const [block, next] = await Promise.all([blockAt(url, n), blockAt(url, n + 1n)])
  if (block === null || next === null) throw new Error(`no block ${block === null ? n : n + 1n}`)
  const cert = decodeBftExtra(hexToBytes(next.extraData)).parentCertificate
  if (cert === null || BigInt(cert.height) !== n || bytesToHex(cert.blockHash) !== block.hash)
    throw new Error(`block ${n + 1n} does not certify ${n}`)
  const set = await setAt(url, n)
  return cert.signatures.map((s) => set[s.validatorIndex] ?? '?')
}

/** One JSON-RPC call that gives up after `ms` (a stalled node must not stall the load). */
async function rpcWithin(url: string, method: string, params: unknown[], ms: number): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(ms),
  })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

/**
 * Signed transfers from dev accounts `senders` to fresh addresses, each to a random node, about
 * `perSecond` in all, until `stop()`. A transfer is acknowledged when a node answers its hash
 * (or, resent after an error, says it knows it or its nonce is used: the same bytes landed);
 * until then the same bytes are resent, so that no nonce is skipped.
 */
function startLoad(urls: string[], senders: number[], perSecond: number) {
  const acked: Hex[] = []
  const errors: string[] = []
  let running = true
  const gapMs = (1000 * senders.length) / perSecond
  const done = Promise.all(
    senders.map(async (index) => {
      const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index })
      const url0 = urls[0] as string
      let nonce = Number(await rpc(url0, 'eth_getTransactionCount', [account.address, 'pending']))
      const maxFeePerGas = BigInt((await rpc(url0, 'eth_gasPrice')) as string) * 4n + 10n ** 9n
      while (running) {
        const started = Date.now()
        const raw = await account.signTransaction({
          chainId: 1337,
          type: 'eip1559',
          nonce,
          to: bytesToHex(randomBytes(20)),
          value: 1n,
          gas: 21_000n,
          maxFeePerGas,
          maxPriorityFeePerGas: 10n ** 9n,
        })
        const hash = keccak256(raw)
        for (let attempt = 0; ; attempt++) {
          const url = urls[Math.floor(Math.random() * urls.length)] as string
          try {
            const answered = await rpcWithin(url, 'eth_sendRawTransaction', [raw], 5000)
            if (answered !== hash) errors.push(`${url} answered ${String(answered)} for ${hash}`)
            acked.push(hash)
            break
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err)
            if (attempt > 0 && /already known|known transaction|nonce too low/i.test(message)) {
              acked.push(hash)
              break
            }
            errors.push(`${url}: ${message}`)
            if (!running && attempt >= 3) return
            await new Promise((r) => setTimeout(r, 200))
          }
        }
        nonce++
        await new Promise((r) => setTimeout(r, Math.max(0, gapMs - (Date.now() - started))))
      }
    }),
  )
  return {
    acked,
    errors,
    stop: async () => {
      running = false
      await done
    },
  }
}

// Shared by the two tests: the second goes on from the rotation of the first.
const state: { dn?: string; urls?: string[]; oldAddr?: string; newAddr?: string; nodeTwoPid?: number } = {}

describe('consensus key rotation on a 4-validator staking devnet', () => {
  it('cairn staking rotate-key under load: the node follows the chain to its next key at H+2, no missed height, every transfer mined once', async () => {
    const dn = join(dir, 'dn')
    const base = await freePortRange(8)
    const init = await runCli([
      'devnet',
      'init',
      '--validators',
      '4',
      '--dir',
      dn,
      '--base-port',
      String(base),
      '--p2p-base-port',
      String(base + 4),
    ])
    expect(init.code, init.stderr).toBe(0)
    // Node 2's next key, in place before it starts (step 1 of the operator's steps).
    const nextKey = `0x${'7e'.repeat(31)}02` as Hex
    writeFileSync(join(dn, 'node-2', 'keys', 'validator.next.key'), `${nextKey.slice(2)}\n`, { mode: 0o600 })
    const newAddr = privateKeyToAddress(nextKey).toLowerCase()
    devnet = spawn(process.execPath, [CAIRN_BIN, 'devnet', 'start', '--dir', dn], {
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (d: unknown) => {
      output += String(d)
      if (output.length > 200_000) output = output.slice(-100_000)
    }
    const line = (l: string) => {
      const started = /^\[devnet\] node-(\d+) pid (\d+)/.exec(l)
      if (started) {
        nodePids.push(Number(started[2]))
        pidOf.set(Number(started[1]), Number(started[2]))
      }
      const exited = /^\[devnet\] node-(\d+) exited/.exec(l)
      if (exited) exitOf.get(Number(exited[1]))?.()
      if (l.startsWith('[node-2]') && l.includes('consensus key promoted')) promotedLines.push(l)
    }
    devnet.stdout?.on('data', keep)
    devnet.stderr?.on('data', keep)
    devnet.stdout?.on('data', lines(line))
    devnet.stderr?.on('data', lines(line))
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const url0 = urls[0] as string
    await waitFor(async () => (await Promise.all(urls.map(height))).every((n) => n >= 2n), 240_000, 'height 2')
    const before = await setAt(url0, 'latest')
    expect(before).not.toContain(newAddr)

    // Transfers to every node from here until H+10 (15 a second from three dev accounts).
    const loadFrom = await height(url0)
    const load = startLoad(urls, [3, 4, 5], 15)
    let stopped = false
    try {
      // Step 2: the operator (a devnet validator's key is its operator too) sends the rotation.
      const rotate = await runCli([
        'staking',
        'rotate-key',
        '--rpc',
        urls[1] as string,
        '--new-key-file',
        join(dn, 'node-2', 'keys', 'validator.next.key'),
        '--private-key-file',
        join(dn, 'node-2', 'keys', 'validator.key'),
      ])
      expect(rotate.code, rotate.stderr).toBe(0)
      const block = BigInt(/in block (\d+)/.exec(rotate.stdout)?.[1] ?? '0')
      expect(block).toBeGreaterThan(0n)
      const oldAddr = /consensus key (0x[0-9a-fA-F]{40})/.exec(rotate.stdout)?.[1]?.toLowerCase() as string
      expect(oldAddr).toMatch(/^0x/)
      expect(rotate.stdout).toContain(`from block ${block + 2n}`)
      const effective = block + 2n
      Object.assign(state, { dn, urls, oldAddr, newAddr, nodeTwoPid: pidOf.get(2) })
      // H+10 certified (by H+11), under load.
      await waitFor(async () => (await height(url0)) >= block + 11n, 90_000, `height ${block + 11n}`)
      await load.stop()
      stopped = true

      // The set: the old key to effective - 1, the new one from effective, at equal size.
      expect(await setAt(url0, effective - 1n)).toContain(oldAddr)
      expect(await setAt(url0, effective - 1n)).not.toContain(newAddr)
      expect(await setAt(url0, effective)).toContain(newAddr)
      expect(await setAt(url0, effective)).not.toContain(oldAddr)
      expect((await setAt(url0, effective)).length).toBe(4)
      // Every height from H-5 to H+10 there, each the parent of the next and certified by it with
      // more than 2/3 of the power (3 of 4); node 2 signs around the switch with the key of the
      // height. A process lagging on a loaded machine has its precommits in the certificates of
      // the blocks it proposes only (the others' are built before its precommit arrives), so the
      // counts ask for one each side; the in-process test (key-rotation-network.test.ts) asks for
      // every one.
      const rows: string[] = []
      let pre = 0
      let post = 0
      const from = block > 5n ? block - 5n : 1n
      let parent: Hex | undefined
      for (let n = from; n <= block + 10n; n++) {
        const b = await blockAt(url0, n)
        expect(b, `block ${n}`).not.toBeNull()
        if (parent !== undefined) expect(b?.parentHash, `block ${n}'s parent`).toBe(parent)
        parent = b?.hash
        const signers = await signersOf(url0, n)
        rows.push(`${n}${n === effective ? ' (H+2)' : ''}: ${signers.join(' ')}`)
        expect(signers.length, rows.join('\n')).toBeGreaterThanOrEqual(3)
        if (n < effective && signers.includes(oldAddr)) pre++
        if (n >= effective && signers.includes(newAddr)) post++
        if (n >= effective) expect(signers, rows.join('\n')).not.toContain(oldAddr)
        if (n < effective) expect(signers, rows.join('\n')).not.toContain(newAddr)
      }
      const warnings = output
        .split('\n')
        .filter((l) => l.startsWith('[node-2]') && /"level":"(warn|error)"/.test(l))
        .slice(-20)
      const table = `old ${oldAddr} new ${newAddr}\n${rows.join('\n')}\nnode-2 warnings:\n${warnings.join('\n')}`
      expect(pre, table).toBeGreaterThanOrEqual(1)
      expect(post, table).toBeGreaterThanOrEqual(1)
      // All four nodes on one chain.
      const at = hex(effective + 2n)
      const hashes = await Promise.all(
        urls.map(async (u) => ((await rpc(u, 'eth_getBlockByNumber', [at, false])) as { hash: string }).hash),
      )
      expect(new Set(hashes).size).toBe(1)

      // Every acknowledged transfer mined exactly once: the blocks from the load's start are
      // read once each, until they hold every acknowledged hash (the last few land after the stop).
      expect(load.acked.length, load.errors.slice(-5).join('\n')).toBeGreaterThan(50)
      const mined = new Map<Hex, number>()
      let scanned = loadFrom
      const wanted = new Set(load.acked)
      await waitFor(
        async () => {
          const head = await height(url0)
          for (; scanned <= head; scanned++) {
            for (const h of (await blockAt(url0, scanned))?.transactions ?? []) mined.set(h, (mined.get(h) ?? 0) + 1)
          }
          return [...wanted].every((h) => mined.has(h))
        },
        30_000,
        `${[...wanted].filter((h) => !mined.has(h)).length} acknowledged transfers to be mined`,
      )
      expect(wanted.size).toBe(load.acked.length)
      const notOnce = load.acked.filter((h) => mined.get(h) !== 1)
      expect(notOnce, `of ${load.acked.length}`).toEqual([])
      // A sample of receipts: each succeeded.
      for (const h of load.acked.filter((_, i) => i % 25 === 0)) {
        const receipt = (await rpc(url0, 'eth_getTransactionReceipt', [h])) as { status: string }
        expect(receipt.status, h).toBe('0x1')
      }
    } finally {
      if (!stopped) await load.stop()
    }
  }, 420_000)

  it('node 2 promotes its key files with no restart, and signs with the promoted key after one', async () => {
    const { dn, urls, oldAddr, newAddr, nodeTwoPid } = state
    if (!dn || !urls || !oldAddr || !newAddr || nodeTwoPid === undefined)
      throw new Error('the rotation test did not get far enough')
    const url0 = urls[0] as string
    const keys = join(dn, 'node-2', 'keys')
    const addressIn = (f: string) =>
      privateKeyToAddress(`0x${readFileSync(join(keys, f), 'utf8').trim()}` as Hex).toLowerCase()
    const retired = `validator.retired-${getAddress(oldAddr)}.key`
    // Promoted once the chain was past H+1: long done by now (a moment allowed for the files).
    await waitFor(async () => !existsSync(join(keys, 'validator.next.key')), 15_000, 'validator.next.key to go')
    expect(addressIn('validator.key')).toBe(newAddr)
    expect(existsSync(join(keys, retired))).toBe(true)
    expect(addressIn(retired)).toBe(oldAddr)
    // By the node it started: the same process, one info line.
    expect(pidOf.get(2)).toBe(nodeTwoPid)
    process.kill(nodeTwoPid, 0)
    expect(promotedLines, output.slice(-3000)).toHaveLength(1)
    expect(promotedLines[0]).toContain('"level":"info"')
    expect(promotedLines[0]).toContain(getAddress(newAddr))

    // Restarted (a clean stop), on fresh ports (another test may have taken its old ones): it
    // loads the promoted key alone and signs with it.
    const exited = new Promise<void>((r) => exitOf.set(2, r))
    process.kill(-nodeTwoPid, 'SIGTERM')
    await Promise.race([
      exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error('node 2 did not stop within 30 s')), 30_000)),
    ])
    const [rpc2, p2p2] = [await freePortRange(1), await freePortRange(1)]
    let out2 = ''
    const node2 = spawn(
      process.execPath,
      [
        CAIRN_BIN,
        'start',
        '--config',
        join(dn, 'node-2.toml'),
        '--http.port',
        String(rpc2),
        '--p2p.port',
        String(p2p2),
      ],
      { env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    if (node2.pid !== undefined) nodePids.push(node2.pid)
    const keep2 = (d: unknown) => {
      out2 += String(d)
      output += `[node-2 again] ${String(d)}`
      if (out2.length > 200_000) out2 = out2.slice(-100_000)
    }
    node2.stdout?.on('data', keep2)
    node2.stderr?.on('data', keep2)
    const url2 = `http://127.0.0.1:${rpc2}`
    await waitFor(
      async () => {
        if (node2.exitCode !== null)
          throw Object.assign(new Error(`node 2 exited (${node2.exitCode}):\n${out2.slice(-3000)}`), { final: true })
        return (await height(url2)) >= (await height(url0)) - 1n
      },
      90_000,
      'node 2 to restart and catch up',
    )
    expect(node2.exitCode, out2.slice(-3000)).toBeNull()
    const started = out2.split('\n').find((l) => l.includes('bft engine started')) ?? ''
    expect(started, out2.slice(-3000)).toContain(`"validator":"${newAddr}"`)
    expect(existsSync(join(keys, 'validator.next.key'))).toBe(false)
    // Its precommits in a certificate of a height after the restart (at the latest in the next
    // block it proposes: one in four).
    const from = await height(url0)
    let n = from
    await waitFor(
      async () => {
        const head = await height(url0)
        for (; n < head; n++) if ((await signersOf(url0, n)).includes(newAddr)) return true
        return false
      },
      60_000,
      "node 2's precommit with the promoted key after its restart",
    )
    expect(n).toBeGreaterThanOrEqual(from)
  }, 180_000)
})
