// New dev chains run Osaka; a datadir created when the default was Prague (store schema 1) keeps
// running Prague when started again with the same genesis (as `cairn start --dev` passes it).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bucket, bucketKey, LevelKV } from '@cairn/db'
import { silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { Chain, devGenesis } from '../src/index.ts'
import { ADDRS, testEngine } from './helpers.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function withChain<T>(path: string, genesis: unknown, fn: (chain: Chain, kv: LevelKV) => Promise<T>) {
  const kv = new LevelKV({ path })
  await kv.open()
  try {
    return await fn(await Chain.open({ genesis }, { kv, engine: testEngine, logger: silentLogger, metrics: null }), kv)
  } finally {
    await kv.close()
  }
}

describe('the ruleset a datadir runs', () => {
  it('a new dev chain runs Osaka (EIP-7825 and the CLZ opcode active)', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cairn-ruleset-'))
    dirs.push(path)
    await withChain(path, devGenesis({ accounts: ADDRS }), async (chain) => {
      expect(chain.genesis.hardfork).toBe('osaka')
      expect(chain.common.isActivatedEIP(7825)).toBe(true)
      expect(chain.common.isActivatedEIP(7939)).toBe(true)
    })
  })

  it('a datadir written with store schema 1 (Prague by default then) keeps Prague', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cairn-ruleset-'))
    dirs.push(path)
    const genesis = devGenesis({ accounts: ADDRS })
    // The previous version wrote the same genesis, blocks and state (Prague's and Osaka's genesis
    // headers are the same) and schema version 1.
    await withChain(path, genesis, async (_chain, kv) => {
      await kv.put(bucketKey(Bucket.meta, new TextEncoder().encode('schemaVersion')), Uint8Array.of(1))
    })
    for (const given of [genesis, undefined]) {
      await withChain(path, given, async (chain) => {
        expect(chain.report.created).toBe(false)
        expect(chain.genesis.hardfork).toBe('prague')
        expect(chain.common.hardfork()).toBe('prague')
        expect(chain.common.isActivatedEIP(7825)).toBe(false)
      })
    }
  })
})
