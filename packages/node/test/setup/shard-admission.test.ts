import { homeShard, ShardErrorCode } from '@cairn/consensus/shard'
import { toJsonRpcError } from '@cairn/rpc'
import { CairnError } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { shardAdmission } from '../../src/setup/shard-admission.ts'

/** The first address 0x00…0k whose home among `count` shards is `shard`. */
function addressOn(shard: number, count: number): Address {
  for (let k = 1; ; k++) {
    const bytes = new Uint8Array(20)
    bytes[19] = k
    if (homeShard(bytes, count) === shard) return new Address(bytes)
  }
}

const tx = {} as TypedTransaction

describe('shardAdmission', () => {
  const admit = shardAdmission({ index: 0, count: 2 })

  it('admits a sender that lives on this shard', () => {
    expect(() => admit(tx, addressOn(0, 2))).not.toThrow()
  })

  it('refuses a sender of another shard, naming it, with the JSON-RPC data a client reads', () => {
    let err: unknown
    try {
      admit(tx, addressOn(1, 2))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CairnError)
    const e = err as CairnError
    expect(e.code).toBe(ShardErrorCode.WRONG_SHARD)
    expect(e.fault).toBe('caller')
    expect(e.message).toContain('lives on shard 1, not shard 0')
    expect(e.meta).toMatchObject({ homeShard: 1, shard: 0 })
    expect(toJsonRpcError(e)).toEqual({
      code: -32000,
      message: e.message,
      data: { code: 'CONSENSUS_SHARD_WRONG_SHARD', homeShard: 1 },
    })
  })

  it('names the home shard among many', () => {
    const admit4 = shardAdmission({ index: 2, count: 4 })
    expect(() => admit4(tx, addressOn(2, 4))).not.toThrow()
    for (const other of [0, 1, 3]) {
      expect(() => admit4(tx, addressOn(other, 4))).toThrow(
        expect.objectContaining({ meta: expect.objectContaining({ homeShard: other }) }),
      )
    }
  })
})
