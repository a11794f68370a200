/**
 * Sharding's engine-independent parts (`@cairn/consensus/shard`): where an address lives, the
 * cross-shard message and its channel, the proofs and the light client that verify another
 * shard's state without trusting a relayer. `docs/consensus/sharding.md` has the design.
 */
export type { BridgeState, Decision, HookResult, Relayed, SendRequest, VerifiedRoots } from './bridge.ts'
export { receiveMessage, sendMessage, settleMessage } from './bridge.ts'
export { acknowledgementAbi, bridgeAbi } from './bridge-abi.ts'
export type { BridgeEvent, BridgeOptions } from './bridge-precompile.ts'
export {
  ACK_HOOK_GAS,
  BRIDGE_GAS,
  bridgeExtension,
  crossShardHash,
  HOOK_GAS,
  MAX_ACK_BYTES,
} from './bridge-precompile.ts'
export type { PeerShard } from './bridge-storage.ts'
export { BRIDGE_ADDRESS, bridgeGenesisAlloc, ROOT_WINDOW } from './bridge-storage.ts'
export { ShardErrorCode } from './errors.ts'
export type { LightClientState, ShardLightClientOptions, VerifiedHeader } from './light-client.ts'
export { genesisClientState, ShardLightClient, verifyNextHeader } from './light-client.ts'
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
