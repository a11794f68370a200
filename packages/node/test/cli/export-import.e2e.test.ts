// `cairn export` says which genesis its file needs, and `cairn import --dev` / `--genesis` take it
// back: the real executable, a real dev chain with a transaction in it, head hashes compared.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type RunningNode, readStoredChain, rpc, runCli, startCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-export-import-'))
/** Nodes still running: stopped after all (a timed-out test is abandoned, never finishing its `finally`). */
const running = new Set<RunningNode>()
afterAll(async () => {
  for (const node of running) await node.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function devChainWithOneTx(datadir: string, extra: string[] = []): Promise<void> {
  const node = await startCli(['--dev', '--datadir', datadir, '--http.port', '0', ...extra])
  running.add(node)
  let stopped = false
  try {
    const [from] = (await rpc(node.url, 'eth_accounts')) as string[]
    const hash = await rpc(node.url, 'eth_sendTransaction', [
      { from, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
    ])
    // the receipt: polled, as a client waits for one (the block may be sealed just after the answer)
    let receipt: unknown = null
    for (let i = 0; i < 200 && receipt === null; i++) {
      receipt = await rpc(node.url, 'eth_getTransactionReceipt', [hash])
      if (receipt === null) await new Promise((r) => setTimeout(r, 50))
    }
    expect(receipt).not.toBeNull()
    expect(await node.stop()).toBe(0)
    stopped = true
  } finally {
    // a failed test must not leave its node running
    if (!stopped) await node.stop()
    running.delete(node)
  }
}

describe('cairn export → cairn import', { timeout: 120_000 }, () => {
  it('a dev chain: export names --dev, and `import --dev` rebuilds the same head', async () => {
    const source = join(dir, 'dev')
    await devChainWithOneTx(source)
    const file = join(dir, 'dev.rlp')
    const out = await runCli(['export', file, '--datadir', source])
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toContain(`cairn import ${file} --dev --datadir DIR`)

    const copy = join(dir, 'dev-copy')
    const imp = await runCli(['import', file, '--dev', '--datadir', copy])
    expect(imp.code, imp.stderr).toBe(0)
    // what it did and how fast, without the process start (as geth's "Import done in …")
    expect(imp.stdout).toMatch(
      /^imported [1-9]\d* block\(s\) \(\d+ already known\), 1 transaction\(s\) in \d+\.\d{3} s, \d+ blocks\/s, \d+ tx\/s; head \d+ 0x[0-9a-f]{64}/m,
    )
    const [a, b] = await Promise.all([readStoredChain(source), readStoredChain(copy)])
    expect(b.genesisHash).toBe(a.genesisHash)
    expect(b.headHash).toBe(a.headHash)
    expect(b.headNumber).toBeGreaterThanOrEqual(1n)
  })

  it('another genesis (chain id 5): export writes it with --genesis-out and says so; `--dev` is refused by the genesis check', async () => {
    const source = join(dir, 'c5')
    await devChainWithOneTx(source, ['--chain-id', '5'])
    const file = join(dir, 'c5.rlp')
    const genesisOut = join(dir, 'c5-genesis.json')
    const out = await runCli(['export', file, '--datadir', source, '--genesis-out', genesisOut])
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toContain(`--genesis ${genesisOut}`)
    expect(out.stdout).toContain('chain id 5')
    expect((JSON.parse(readFileSync(genesisOut, 'utf8')) as { config: { chainId: number } }).config.chainId).toBe(5)

    const copy = join(dir, 'c5-copy')
    const imp = await runCli(['import', file, '--datadir', copy, '--genesis', genesisOut])
    expect(imp.code, imp.stderr).toBe(0)
    const [a, b] = await Promise.all([readStoredChain(source), readStoredChain(copy)])
    expect(b.headHash).toBe(a.headHash)

    // the dev genesis (chain id 1337) is not this file's: the first block's parent is unknown
    const wrong = await runCli(['import', file, '--dev', '--datadir', join(dir, 'c5-wrong')])
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toMatch(/error: /)
  })

  it('--dev with --genesis, or no datadir at all, is refused with the way out', async () => {
    const both = await runCli(['import', 'x.rlp', '--dev', '--genesis', 'g.json'])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('--dev and --genesis name two genesis blocks')
    const none = await runCli(['import', 'x.rlp'])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('give --datadir DIR')
  })
})
