// Measures the recovery time of the runbook (docs/operations/backup-and-recovery.md): from a
// backup directory to a node answering JSON-RPC at the backup's head. Prints the figures.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from '../../../chain/test/helpers.ts'
import { createBackup, restoreBackup, verifyBackup } from '../../src/backup/backup.ts'
import { loadConfig } from '../../src/config/load.ts'
import { startNode } from '../../src/node.ts'

const BLOCKS = 30
const TXS_PER_BLOCK = 20
const root = mkdtempSync(join(tmpdir(), 'cairn-rto-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('recovery time', () => {
  it(`restores a backup of ${BLOCKS * TXS_PER_BLOCK} transactions into a node that answers at the same head`, async () => {
    const kv = new LevelKV({ path: join(root, 'source', 'chaindata') })
    const chain = await openChain(kv)
    let nonce = 0n
    for (let b = 0; b < BLOCKS; b++) {
      const txs = []
      for (let i = 0; i < TXS_PER_BLOCK; i++) {
        txs.push(transfer(chain.common, KEYS[0] as Uint8Array, nonce++, ADDRS[1] as `0x${string}`, 1n))
      }
      await buildAndImport(chain, txs)
    }
    const head = chain.head
    const backupStarted = performance.now()
    const manifest = await createBackup(kv, join(root, 'backup'))
    const backupMs = performance.now() - backupStarted
    await kv.close()
    expect(manifest.chain.headNumber).toBe(String(head.header.number))

    const started = performance.now()
    const verified = await verifyBackup(join(root, 'backup'))
    expect(verified.problems).toEqual([])
    await restoreBackup(join(root, 'backup'), join(root, 'restored'), false)
    const config = loadConfig({
      flags: { datadir: join(root, 'restored'), 'http.port': 0, 'log.level': 'silent', 'p2p.enabled': false },
      env: {},
    })
    const node = await startNode(config, { logger: silentLogger })
    try {
      const res = await fetch(node.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['latest', false] }),
      })
      const block = ((await res.json()) as { result: { hash: string; number: string } }).result
      const rtoMs = performance.now() - started
      expect(block.hash).toBe(bytesToHex(head.hash()))
      expect(BigInt(block.number)).toBe(head.header.number)
      const bytes = manifest.files.reduce((s, f) => s + f.size, 0)
      console.log(
        `recovery: backup of ${bytes} bytes (${BLOCKS} blocks, ${BLOCKS * TXS_PER_BLOCK} txs) taken in ${Math.round(backupMs)} ms; ` +
          `verify + restore + start to an answering node: ${Math.round(rtoMs)} ms`,
      )
    } finally {
      await node.close()
    }
  }, 180_000)
})
