// A full disk, for real: the datadir on a 24 MiB tmpfs filled to the last byte. The node must not
// acknowledge what it cannot keep, must say so once (not ten lines a second), and must recover by
// itself when space returns. Needs root to mount the tmpfs; skipped, saying so, otherwise.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningNode, startCli } from '../cli/run-cli.ts'

const mnt = mkdtempSync(join(tmpdir(), 'cairn-diskfull-'))
let mounted = false
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt], { stdio: 'ignore' })
  mounted = true
} catch {
  console.warn('disk-full: cannot mount a tmpfs here (needs root) — skipping the full-disk test')
}

const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const BEEF = '0x000000000000000000000000000000000000bEEF'

async function post(url: string, method: string, params: unknown[]) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } }
}

const raw = (nonce: number) =>
  account.signTransaction({
    chainId: 1337,
    type: 'eip1559',
    to: BEEF,
    value: 1n,
    nonce,
    gas: 21_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 1n,
  })

/** Fills the filesystem: one file as large as it goes (ENOSPC ends it). */
function fill(path: string): void {
  const chunk = Buffer.alloc(256 * 1024)
  try {
    for (let i = 0; ; i++) writeFileSync(path, chunk, { flag: i === 0 ? 'w' : 'a' })
  } catch {
    // full
  }
  // the last partial chunk
  for (let n = 4096; n >= 1; n = Math.floor(n / 2)) {
    try {
      for (;;) writeFileSync(path, Buffer.alloc(n), { flag: 'a' })
    } catch {
      // smaller
    }
  }
}

describe.skipIf(!mounted)('a full disk', () => {
  let node: RunningNode
  /** Waits until the node's output has a line matching `re` (its log reaches the pipe after the RPC answer). */
  const logged = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(node.stdout()); i++) await new Promise((r) => setTimeout(r, 25))
    expect(node.stdout()).toMatch(re)
  }
  beforeAll(async () => {
    node = await startCli(['--dev', '--datadir', join(mnt, 'd'), '--http.port', '0', '--log.format', 'json'])
  })
  afterAll(async () => {
    await node?.stop()
    if (mounted) execFileSync('umount', ['-l', mnt])
    rmSync(mnt, { recursive: true, force: true })
  })

  it('refuses transactions while full, logs it once, and recovers when space returns', async () => {
    const first = await post(node.url, 'eth_sendRawTransaction', [await raw(0)])
    expect(first.result).toMatch(/^0x[0-9a-f]{64}$/)

    const filler = join(mnt, 'filler')
    fill(filler)
    // LevelDB buffers its log 64 KiB at a time: blocks go on being "written" until that fills.
    let failed = 0
    for (let i = 0; i < 2000 && failed === 0; i++) if ((await post(node.url, 'evm_mine', [])).error) failed++
    expect(failed).toBe(1)
    // Once failing, it keeps failing (until space returns), and says so once.
    for (let i = 0; i < 5; i++) expect((await post(node.url, 'evm_mine', [])).error, `mine ${i}`).toBeDefined()
    const refused = await post(node.url, 'eth_sendRawTransaction', [await raw(1)])
    expect(refused.error?.message).toMatch(/^transaction not accepted: /)
    await logged(/cannot write blocks \(disk full\?\)/)

    rmSync(filler)
    // The next write reopens the store; then transactions are accepted and mined again.
    let ok = false
    let last: unknown
    for (let i = 0; i < 20 && !ok; i++) {
      const r = await post(node.url, 'evm_mine', [])
      last = r.error
      ok = r.error === undefined
    }
    expect(last).toBeUndefined()
    expect(ok).toBe(true)
    await logged(/blocks are written again/)
    // Once per change of state: one line when writes began to fail, one when they worked again.
    expect(node.stdout().match(/cannot write blocks \(disk full\?\)/g) ?? []).toHaveLength(1)
    const again = await post(node.url, 'eth_sendRawTransaction', [await raw(1)])
    expect(again.result).toMatch(/^0x[0-9a-f]{64}$/)
    let mined: unknown = null
    for (let i = 0; i < 100 && mined === null; i++) {
      mined = (await post(node.url, 'eth_getTransactionReceipt', [again.result])).result ?? null
      if (mined === null) await new Promise((r) => setTimeout(r, 50))
    }
    expect(mined).not.toBeNull()
  })
})
