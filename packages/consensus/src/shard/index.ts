/**
 * Sharding's engine-independent parts (`@cairn/consensus/shard`): where an address lives, the
 * cross-shard message and its channel, the proofs and the light client that verify another
 * shard's state without trusting a relayer. `docs/consensus/sharding.md` has the design.
 */
export type { BridgeState, Decision, HookResult, Relayed, SendRequest } from './bridge.ts'
export { receiveMessage, sendMessage, settleMessage } from './bridge.ts'
export { ShardErrorCode } from './errors.ts'
export type { ShardLightClientOptions, VerifiedHeader } from './light-client.ts'
export { ShardLightClient } from './light-client.ts'
export type { CrossShardMessage } from './message.ts'
export {
  checkMessage,
  commitmentSlot,
  decodeMessage,
  encodeMessage,
  MAX_MESSAGE_DATA,
  messageHash,
  ReceiptStatus,
  receiptSlot,
  receiptValue,
} from './message.ts'
export type { SlotProof } from './proof.ts'
export { provenSlot } from './proof.ts'
export { addressKey, checkHomeShard, homeShard, jumpConsistentHash, MAX_SHARDS } from './shard-map.ts'
