// SIGTERM during a stream of transactions: the node exits 0 within 10 s, and after a restart on
// the same datadir every transaction whose receipt a client saw is in the chain, unchanged.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startCli } from '../cli/run-cli.ts'

interface Receipt {
  transactionHash: string
  blockHash: string
  blockNumber: string
  status: string
  gasUsed: string
}

async function call<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

const datadir = mkdtempSync(join(tmpdir(), 'cairn-sigterm-'))
afterAll(() => rmSync(datadir, { recursive: true, force: true }))

describe('SIGTERM during a stream of transactions', () => {
  it('exits 0 within 10 s; after restart every receipt a client saw is in the chain', async () => {
    const node = await startCli(['--dev', '--datadir', datadir, '--http.port', '0', '--log.format', 'json'])
    const accounts = await call<string[]>(node.url, 'eth_accounts', [])
    const seen = new Map<string, Receipt>()
    let sent = 0
    let stopping = false

    // Four clients send transfers back to back and record each receipt they get.
    const client = async (from: string) => {
      for (;;) {
        let hash: string
        try {
          hash = await call<string>(node.url, 'eth_sendTransaction', [
            { from, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
          ])
          sent++
          const receipt = await call<Receipt | null>(node.url, 'eth_getTransactionReceipt', [hash])
          if (receipt) seen.set(hash, receipt)
        } catch {
          if (stopping) return // the node is going away: refused or reset connections
        }
      }
    }
    const clients = accounts.slice(0, 4).map((a) => client(a))

    // Let the stream run, then SIGTERM in the middle of it.
    const streamStart = Date.now()
    while (seen.size < 20 && Date.now() - streamStart < 20_000) await new Promise((r) => setTimeout(r, 20))
    expect(seen.size).toBeGreaterThanOrEqual(20)
    stopping = true
    const t0 = Date.now()
    const code = await node.stop()
    const stopMs = Date.now() - t0
    await Promise.all(clients)
    expect(sent).toBeGreaterThanOrEqual(seen.size) // (a send can be acknowledged without its receipt read)
    expect(code).toBe(0)
    expect(stopMs).toBeLessThan(10_000)
    expect(node.stdout().slice(-1500)).toContain('stopped cleanly')

    // Restart on the same datadir: every receipt seen is there, in the same block.
    const again = await startCli(['--dev', '--datadir', datadir, '--http.port', '0'])
    try {
      const missing: string[] = []
      for (const [hash, before] of seen) {
        const after = await call<Receipt | null>(again.url, 'eth_getTransactionReceipt', [hash])
        if (!after) {
          missing.push(hash)
          continue
        }
        expect(after).toMatchObject({
          blockHash: before.blockHash,
          blockNumber: before.blockNumber,
          status: before.status,
          gasUsed: before.gasUsed,
        })
        const block = await call<{ hash: string }>(again.url, 'eth_getBlockByNumber', [before.blockNumber, false])
        expect(block.hash).toBe(before.blockHash)
      }
      expect(missing, `${missing.length} of ${seen.size} acknowledged transactions lost`).toEqual([])
    } finally {
      expect(await again.stop()).toBe(0)
    }
  }, 90_000)
})

describe('the reader of the node’s output goes away', () => {
  // `cairn start | head`, a log shipper that died: the next line the node writes meets EPIPE. It
  // used to hang for good (the unhandled EPIPE ended the process, and the exit's log flush retried
  // the write forever: sonic-boom, patched); now the node stops as on SIGTERM.
  it('stops cleanly at the next line it writes, and its datadir opens again with every block', async () => {
    const dir = join(datadir, 'epipe')
    const node = await startCli(['--dev', '--datadir', dir, '--http.port', '0', '--log.format', 'json'])
    await call(node.url, 'anvil_mine', ['0x3'])
    const head = await call<{ hash: string; number: string }>(node.url, 'eth_getBlockByNumber', ['latest', false])
    node.closeOutput()
    // something to say: a new block is logged
    await call(node.url, 'evm_mine', []).catch(() => undefined)
    const code = await Promise.race([
      node.exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 20 s'), 20_000)),
    ])
    if (code === 'still running after 20 s') await node.stop() // not left behind when the test fails
    expect(code).toBe(0)
    const again = await startCli(['--dev', '--datadir', dir, '--http.port', '0'])
    try {
      const after = await call<{ hash: string }>(again.url, 'eth_getBlockByNumber', [head.number, false])
      expect(after.hash).toBe(head.hash)
    } finally {
      expect(await again.stop()).toBe(0)
    }
  }, 90_000)
})
