/**
 * The work API a proof-of-work engine offers external miners and operators, as the RPC's work
 * methods call it (`eth_getWork`, `eth_submitWork`, `eth_submitHashrate`, `eth_hashrate`,
 * `eth_mining`, `eth_coinbase`, `cairn_acceptBranch`). An engine declares it as its `work`
 * capability; the node hands it to the RPC.
 */
export interface WorkApi {
  /** [seal hash, seed hash, boundary, number] of the current work. */
  getWork(): Promise<[string, string, string, string]>
  /** True once the sealed block is committed; a CairnError with its own code otherwise. */
  submitWork(nonce: Uint8Array, sealHash: Uint8Array, mixDigest: Uint8Array): Promise<boolean>
  submitHashrate(rate: bigint, id: Uint8Array): boolean
  /** Attempts per second: this node's threads plus what external miners reported. */
  hashRate(): bigint
  /** Whether this node's own threads mine. */
  isMining(): boolean
  coinbase(): Uint8Array | undefined
  /** Lets a branch past the reorg limit (an operator's way out after an isolation). */
  acceptBranch(hash: Uint8Array): Promise<{ number: bigint; canonical: boolean }>
}
