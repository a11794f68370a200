// A dev datadir created before the dev genesis deployed the system contracts (its stored genesis
// lacks them) still opens with today's dev genesis, as `cairn start --dev` passes it, and keeps
// producing blocks that a replica of that chain imports: the stored genesis is the chain, and the
// EIP-7002/7251 calls it cannot make are tolerated (src/system-contracts.ts, src/system-calls.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV, MemoryKV } from '@cairn/db'
import { silentLogger } from '@cairn/utils'
import { createBlockFromRLP } from '@ethereumjs/block'
import { afterEach, describe, expect, it } from 'vitest'
import { type Chain, ChainErrorCode, Chain as ChainImpl, devGenesis } from '../src/index.ts'
import { SYSTEM_CONTRACTS } from '../src/rules/system-contracts.ts'
import { ADDRS, cairnError, importBlock, KEYS, listSource, openChain, testEngine, transfer } from './helpers.ts'

/** What the previous version's devGenesis wrote: today's without the system contracts. */
function legacyDevGenesis(): unknown {
  const g = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
  for (const c of SYSTEM_CONTRACTS) delete g.alloc[c.address]
  return g
}

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function open(path: string, genesis: unknown): Promise<{ chain: Chain; kv: LevelKV }> {
  const kv = new LevelKV({ path })
  await kv.open()
  const chain = await ChainImpl.open({ genesis }, { kv, engine: testEngine, logger: silentLogger, metrics: null })
  return { chain, kv }
}

async function seal(chain: Chain, nonce: bigint) {
  const tx = transfer(chain.common, KEYS[0] as Uint8Array, nonce, ADDRS[1] as `0x${string}`, 1n)
  const built = await chain.build(chain.head, { timestamp: chain.head.header.timestamp + 12n }, listSource([tx]))
  expect(built.rejected).toEqual([])
  await chain.committer.commit(built)
  return built.block
}

describe('a dev datadir from before the system contracts', () => {
  it('opens with the new dev genesis and keeps producing blocks a replica imports', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cairn-legacy-'))
    dirs.push(path)
    const first = await open(path, legacyDevGenesis())
    const genesisHash = first.chain.genesisBlock.hash()
    const b1 = await seal(first.chain, 0n)
    await first.kv.close()

    const again = await open(path, devGenesis({ accounts: ADDRS }))
    expect(again.chain.genesisBlock.hash()).toEqual(genesisHash)
    expect(again.chain.head.hash()).toEqual(b1.hash())
    const b2 = await seal(again.chain, 1n)
    await again.kv.close()

    const replica = await openChain(new MemoryKV(), legacyDevGenesis())
    for (const b of [b1, b2]) {
      const fresh = createBlockFromRLP(b.serialize(), { common: replica.common })
      expect((await importBlock(replica, fresh)).status).toBe('head')
    }
    expect(replica.head.hash()).toEqual(b2.hash())
  })

  it('still refuses a genesis that differs in anything else', async () => {
    const kv = new MemoryKV()
    await openChain(kv, legacyDevGenesis())
    const other = devGenesis({ accounts: ADDRS, balance: 1n })
    const err = await cairnError(openChain(kv, other))
    expect(err.code).toBe(ChainErrorCode.GENESIS_MISMATCH)
  })
})
