/**
 * What the RPC reads of the node's network (peers, sync). The p2p package implements it; until
 * then the node wires {@link NO_NETWORK}. `net_peerCount`, `net_listening`, `eth_syncing` and
 * `admin_*` answer from it only.
 */
export interface RpcNetwork {
  /** Connected peers. */
  peerCount(): number
  /** True when the node accepts connections from peers. */
  listening(): boolean
  /** Sync progress, or false when the node is not syncing (it follows the head). */
  syncing(): SyncProgress | false
  /** This node as peers see it (admin_nodeInfo). */
  nodeInfo(): NodeInfo
  /** The connected peers (admin_peers). */
  peers(): PeerInfo[]
  /** Dials a peer (admin_addPeer); false when the address is not usable. */
  addPeer(address: string): Promise<boolean>
  /** Disconnects a peer (admin_removePeer); false when it was not connected. */
  removePeer(address: string): Promise<boolean>
}

/** eth_syncing's object. */
export interface SyncProgress {
  startingBlock: bigint
  currentBlock: bigint
  highestBlock: bigint
}

export interface NodeInfo {
  /** The node's peer id; empty without a network. */
  id: string
  /** Addresses peers can dial. */
  listenAddrs: string[]
}

export interface PeerInfo {
  id: string
  remoteAddress: string
  /** True when the peer dialled this node. */
  inbound: boolean
}

/**
 * A node without a network (today's): no peers, never syncing. `listening` stays true, as
 * `net_listening` answered before the seam existed (the node is up and serving).
 */
export const NO_NETWORK: RpcNetwork = {
  peerCount: () => 0,
  listening: () => true,
  syncing: () => false,
  nodeInfo: () => ({ id: '', listenAddrs: [] }),
  peers: () => [],
  addPeer: async () => false,
  removePeer: async () => false,
}
