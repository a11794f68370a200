/**
 * A shard's admission rule (`config.cairn.shard` in its genesis): the pool, and so
 * `eth_sendRawTransaction`, refuse a transaction whose sender's home shard is another, with
 * `CONSENSUS_SHARD_WRONG_SHARD` naming the right one — in the message, in the error's meta, and in
 * the JSON-RPC answer's `data: { code, homeShard }` (-32000). A client that cannot tell which shard
 * to use sends through `cairn gateway`, which routes instead of refusing.
 */
import { checkHomeShard, ShardErrorCode } from '@cairn/consensus/shard'
import type { TxPoolModules } from '@cairn/txpool'
import { CairnError, isCairnError } from '@cairn/utils'

/** This chain's place among the shards (the genesis's `config.cairn.shard`). */
export interface ShardPlace {
  index: number
  count: number
}

/** The pool's `admit` rule of shard `place.index` of `place.count`. */
export function shardAdmission(place: ShardPlace): NonNullable<TxPoolModules['admit']> {
  return (_tx, sender) => {
    try {
      checkHomeShard(sender.bytes, place.count, place.index)
    } catch (err) {
      if (!isCairnError(err) || err.code !== ShardErrorCode.WRONG_SHARD) throw err
      const homeShard = (err.meta as { homeShard: number }).homeShard
      throw new CairnError(err.code, err.message, {
        fault: 'caller',
        hint: `sign it for shard ${homeShard}'s chain id and send it to that shard, or through the gateway`,
        meta: { homeShard, shard: place.index, data: { code: err.code, homeShard } },
      })
    }
  }
}
