import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkChain, openStoredChain } from '@cairn/chain'
import { LevelKV } from '@cairn/db'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../src/backup/manifest.ts'
import { runCli } from '../cli/run-cli.ts'
import { newLoadState, runLoad } from '../crash/load.ts'
import { rpcRequest, startNode } from '../e2e/harness.ts'
import { DEV_ACCOUNTS } from '../e2e/helpers.ts'
import { buildFixtureChain } from './fixture.ts'

let source: string
const dirs: string[] = []
const temp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p))
  dirs.push(d)
  return d
}

beforeAll(async () => {
  source = await buildFixtureChain()
  dirs.push(source)
}, 60_000)
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function headOf(datadir: string) {
  const kv = new LevelKV({ path: join(datadir, 'chaindata') })
  await kv.open()
  try {
    const view = await openStoredChain(kv)
    const report = await checkChain(view, { fullState: true })
    return { head: report.head, problems: report.problems, genesis: view.genesisJson }
  } finally {
    await kv.close()
  }
}

describe('export and import', () => {
  it('rebuilds the same chain in a fresh datadir from an RLP chain file', async () => {
    const work = temp('cairn-export-')
    const src = await headOf(source)
    writeFileSync(join(work, 'genesis.json'), JSON.stringify(src.genesis))
    const exp = await runCli(['export', join(work, 'chain.rlp'), '--datadir', source])
    expect(exp.stderr).toBe('')
    expect(exp.stdout).toContain('exported blocks 0..6 (7 blocks')
    const imp = await runCli([
      'import',
      join(work, 'chain.rlp'),
      '--datadir',
      join(work, 'copy'),
      '--genesis',
      join(work, 'genesis.json'),
    ])
    expect(imp.stderr).toBe('')
    expect(imp.stdout).toContain('imported 6 block(s) (1 already known)')
    const copy = await headOf(join(work, 'copy'))
    expect(copy.problems).toEqual([])
    expect(copy.head).toEqual(src.head)
    // A truncated file is refused with its offset.
    const bytes = readFileSync(join(work, 'chain.rlp'))
    writeFileSync(join(work, 'cut.rlp'), bytes.subarray(0, bytes.length - 10))
    const cut = await runCli([
      'import',
      join(work, 'cut.rlp'),
      '--datadir',
      join(work, 'copy2'),
      '--genesis',
      join(work, 'genesis.json'),
    ])
    expect(cut.code).toBe(2)
    expect(cut.stderr).toMatch(/truncated block .* at byte \d+/)
  }, 90_000)
})

describe('backup, verify-backup, restore', () => {
  it('verify-backup names a corrupted file; restore refuses a non-empty datadir', async () => {
    const work = temp('cairn-backup-')
    const b = await runCli(['db', 'backup', '--datadir', source, '--out', join(work, 'b')])
    expect(b.stderr).toBe('')
    const manifest = readManifest(join(work, 'b'))
    expect(manifest.chain.headNumber).toBe('6')
    expect(manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true)
    expect((await runCli(['db', 'verify-backup', join(work, 'b')])).code).toBe(0)

    cpSync(join(work, 'b'), join(work, 'bad'), { recursive: true })
    const victim = readdirSync(join(work, 'bad', 'chaindata'))
      .filter((f) => /\.(ldb|log)$/.test(f))
      .sort(
        (x, y) => statSync(join(work, 'bad', 'chaindata', y)).size - statSync(join(work, 'bad', 'chaindata', x)).size,
      )[0] as string
    const path = join(work, 'bad', 'chaindata', victim)
    const data = readFileSync(path)
    data[Math.floor(data.length / 2)] = (data[Math.floor(data.length / 2)] as number) ^ 0xff
    writeFileSync(path, data)
    const bad = await runCli(['db', 'verify-backup', join(work, 'bad')])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(`problem: chaindata/${victim} does not match its SHA-256 in the manifest`)
    const refused = await runCli(['db', 'restore', join(work, 'bad'), '--datadir', join(work, 'r0')])
    expect(refused.code).toBe(2)

    const r = await runCli(['db', 'restore', join(work, 'b'), '--datadir', join(work, 'r')])
    expect(r.code).toBe(0)
    expect((await headOf(join(work, 'r'))).head?.hash).toBe(manifest.chain.headHash)
    const again = await runCli(['db', 'restore', join(work, 'b'), '--datadir', join(work, 'r')])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('already holds a chain')
    expect((await runCli(['db', 'restore', join(work, 'b'), '--datadir', join(work, 'r'), '--force'])).code).toBe(0)
  }, 90_000)

  it('a backup taken from the running node under load restores into a node with the same head, state root and balances', async () => {
    const work = temp('cairn-live-backup-')
    const node = await startNode('cairn', { datadir: join(work, 'src') })
    const state = newLoadState()
    let stop = false
    const load = runLoad(node.url, state, () => stop, 3)
    let manifest: ReturnType<typeof readManifest>
    try {
      // under load: the backup starts once the load has had receipts (blocks are being written)
      await until(() => state.seen.length >= 20)
      const b = await runCli(['db', 'backup', '--datadir', join(work, 'src'), '--out', join(work, 'b')])
      expect(b.stdout).toContain('taken by the running node')
      manifest = readManifest(join(work, 'b'))
      // and the chain moves past the backup's head before the load stops
      const seenAtBackup = state.seen.length
      await until(() => state.seen.length >= seenAtBackup + 20)
    } finally {
      stop = true
      await load
    }
    const at = `0x${BigInt(manifest.chain.headNumber).toString(16)}`
    const view = async (url: string, tag: string) => {
      const block = (await rpcRequest<{ hash: string; stateRoot: string }>(url, 'eth_getBlockByNumber', [
        tag,
        false,
      ])) as {
        result: { hash: string; stateRoot: string }
      }
      const balances = []
      for (const a of DEV_ACCOUNTS.slice(0, 4))
        balances.push((await rpcRequest(url, 'eth_getBalance', [a.address, tag])) as unknown)
      return {
        hash: block.result.hash,
        stateRoot: block.result.stateRoot,
        balances: balances.map((x) => (x as { result: string }).result),
      }
    }
    const fromSource = await view(node.url, at)
    const headRes = await rpcRequest<string>(node.url, 'eth_blockNumber', [])
    const sourceHead = 'result' in headRes ? Number(headRes.result) : -1
    await node.stop()
    expect((await runCli(['db', 'verify-backup', join(work, 'b')])).code).toBe(0)
    expect((await runCli(['db', 'restore', join(work, 'b'), '--datadir', join(work, 'restored')])).code).toBe(0)
    const restored = await startNode('cairn', { datadir: join(work, 'restored') })
    try {
      const fromRestored = await view(restored.url, 'latest')
      expect(fromRestored).toEqual(fromSource)
      expect(fromRestored.hash).toBe(manifest.chain.headHash)
      expect(BigInt(manifest.chain.headNumber)).toBeGreaterThan(0n)
      expect(state.seen.length).toBeGreaterThan(0)
      expect(sourceHead).toBeGreaterThanOrEqual(Number(manifest.chain.headNumber))
    } finally {
      await restored.stop()
    }
  }, 120_000)
})

/** Resolves once `cond` holds, checking every 20 ms (the test's timeout bounds the wait). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20))
}
