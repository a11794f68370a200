// `cairn devnet init --shards`: S devnets with their own chain ids, ports and shard field, operators
// homed on their shard, and the gateway's file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGenesis } from '@cairn/chain'
import { homeShard } from '@cairn/consensus/shard'
import { privateKeyToAddress } from '@cairn/crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { initShardedDevnet } from '../../src/cli/devnet-shards.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-devnet-shards-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('devnet init --shards', () => {
  it('writes each shard with its chain id, shard field, port range and homed operators', async () => {
    const dir = join(root, 'three')
    const opts = { shards: 3, validators: 2, dir, basePort: 9000, p2pBasePort: 31000, staking: false }
    const file = await initShardedDevnet(opts)
    expect(file).toEqual(JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8')))
    expect(file.port).toBe(9000)
    expect(file.shards).toEqual([
      { id: 0, chainId: 1337, url: 'http://127.0.0.1:9001', dir: 'shard-0' },
      { id: 1, chainId: 1338, url: 'http://127.0.0.1:9003', dir: 'shard-1' },
      { id: 2, chainId: 1339, url: 'http://127.0.0.1:9005', dir: 'shard-2' },
    ])
    for (let k = 0; k < 3; k++) {
      const spec = parseGenesis(JSON.parse(readFileSync(join(dir, `shard-${k}`, 'genesis.json'), 'utf8')))
      expect(spec.chainId).toBe(BigInt(1337 + k))
      expect(spec.shard).toEqual({ index: k, count: 3 })
      for (const i of [1, 2]) {
        const toml = readFileSync(join(dir, `shard-${k}`, `node-${i}.toml`), 'utf8')
        expect(toml).toContain(`port = ${9001 + k * 2 + i - 1}`)
        expect(toml).toContain(`port = ${31000 + k * 2 + i - 1}`)
        const key = readFileSync(join(dir, `shard-${k}`, `node-${i}`, 'keys', 'validator.key'), 'utf8').trim()
        expect(homeShard(privateKeyToAddress(Uint8Array.from(Buffer.from(key, 'hex'))), 3)).toBe(k)
      }
    }
    await expect(initShardedDevnet(opts)).rejects.toMatchObject({ code: 'NODE_DEVNET_DIR' })
  })
})
