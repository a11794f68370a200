import { describe, expect, it } from 'vitest'
import { ChainErrorCode, parseGenesis } from '../../src/index.ts'

const genesis = (cairn: unknown) => ({ config: { chainId: 1338, cairn }, alloc: {} })

describe('config.cairn.shard', () => {
  it('is read as the shard index and count', () => {
    expect(parseGenesis(genesis({ shard: { index: 1, count: 4 } })).shard).toEqual({ index: 1, count: 4 })
  })

  it('is undefined on a chain that is not a shard', () => {
    expect(parseGenesis(genesis({ hardfork: 'prague' })).shard).toBeUndefined()
  })

  it.each([
    [{ index: 2, count: 2 }, 'index must be below count'],
    [{ index: -1, count: 2 }, 'config.cairn.shard.index'],
    [{ index: 0, count: 0 }, 'config.cairn.shard.count'],
    [{ index: 0, count: 1025 }, 'config.cairn.shard.count'],
    [{ index: 0.5, count: 2 }, 'config.cairn.shard.index'],
    [{ index: 0 }, 'config.cairn.shard.count'],
    [{ index: 0, count: 2, extra: 1 }, 'config.cairn.shard'],
  ])('refuses %j', (shard, what) => {
    expect(() => parseGenesis(genesis({ shard }))).toThrow(
      expect.objectContaining({ code: ChainErrorCode.GENESIS_INVALID, message: expect.stringContaining(what) }),
    )
  })
})
