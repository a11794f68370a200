/**
 * A shard for tests and the simulator: the bridge's state (`BridgeState`) over a real Merkle state
 * (`@ethereumjs/statemanager`), sealed into real block headers (RLP, state root, parent link,
 * BFT extra data) committed by real certificates of four secp256k1 validators, and EIP-1186 proofs
 * of the bridge's slots at any sealed height — what a relayer reads from a shard's RPC.
 */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import { getMerkleStateProof, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, Address, hexToBytes } from '@ethereumjs/util'
import {
  type CommitCertificate,
  encodeBftExtra,
  MsgType,
  signDigest,
  ValidatorSet,
  voteDigest,
} from '../../src/index.ts'
import { type BridgeState, ShardLightClient, type SlotProof } from '../../src/shard/index.ts'

export const BRIDGE = hexToBytes('0x000000000000000000000000000000000000c5a7')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export interface Validators {
  keys: Uint8Array[]
  set: ValidatorSet
  genesis: { address: Uint8Array; votingPower: bigint }[]
}

export function validatorsOf(shard: number): Validators {
  const keys = [1, 2, 3, 4].map((i) => keccak256(new TextEncoder().encode(`shard-${shard}-validator-${i}`)))
  const genesis = keys.map((k) => ({ address: privateKeyToAddress(k), votingPower: 10n }))
  return { keys, set: ValidatorSet.create(genesis), genesis }
}

export interface Sealed {
  height: number
  rlp: Uint8Array
  hash: Uint8Array
  stateRoot: Uint8Array
  certificate: CommitCertificate
}

export class SimShard implements BridgeState {
  readonly shard: number
  readonly chainId: bigint
  readonly bridgeAddress = BRIDGE
  readonly validators: Validators
  readonly genesisHash: Uint8Array
  readonly sealed: Sealed[] = []
  readonly #sm = new MerkleStateManager()
  readonly #balances = new Map<string, bigint>()
  readonly #storage = new Map<string, Uint8Array>()
  readonly #dirty = new Map<string, Uint8Array | undefined>()
  readonly #sent = new Map<number, bigint>()
  readonly #received = new Map<number, bigint>()
  #ready: Promise<void>

  constructor(shard: number) {
    this.shard = shard
    this.chainId = 7000n + BigInt(shard)
    this.validators = validatorsOf(shard)
    this.genesisHash = keccak256(new TextEncoder().encode(`shard-${shard}-genesis`))
    this.#ready = this.#sm.putAccount(new Address(BRIDGE), new Account(1n))
  }

  height(): bigint {
    return BigInt(this.sealed.length + 1)
  }
  balanceOf(a: Uint8Array): bigint {
    return this.#balances.get(hex(a)) ?? 0n
  }
  credit(a: Uint8Array, v: bigint): void {
    this.#balances.set(hex(a), this.balanceOf(a) + v)
  }
  debit(a: Uint8Array, v: bigint): void {
    if (this.balanceOf(a) < v) throw new Error('overdraft')
    this.#balances.set(hex(a), this.balanceOf(a) - v)
  }
  load(slot: Uint8Array): Uint8Array | undefined {
    return this.#storage.get(hex(slot))
  }
  store(slot: Uint8Array, value: Uint8Array | undefined): void {
    if (value === undefined) this.#storage.delete(hex(slot))
    else this.#storage.set(hex(slot), value)
    this.#dirty.set(hex(slot), value)
  }
  sent(dest: number): bigint {
    return this.#sent.get(dest) ?? 0n
  }
  setSent(dest: number, seq: bigint): void {
    this.#sent.set(dest, seq)
  }
  received(source: number): bigint {
    return this.#received.get(source) ?? 0n
  }
  setReceived(source: number, seq: bigint): void {
    this.#received.set(source, seq)
  }
  totalBalance(): bigint {
    let t = 0n
    for (const v of this.#balances.values()) t += v
    return t
  }

  /** Seals the next block: the bridge's writes into the trie, a header on the last, its certificate. */
  async seal(): Promise<Sealed> {
    await this.#ready
    const address = new Address(BRIDGE)
    for (const [slot, value] of this.#dirty) {
      await this.#sm.putStorage(address, hexToBytes(`0x${slot}`), value ?? new Uint8Array())
    }
    this.#dirty.clear()
    await this.#sm.flush()
    const stateRoot = await this.#sm.getStateRoot()
    const height = this.sealed.length + 1
    const parent = this.sealed.at(-1)?.hash ?? this.genesisHash
    const word = (n: number) =>
      n === 0
        ? new Uint8Array()
        : hexToBytes(`0x${n.toString(16).padStart(2 * Math.ceil(n.toString(16).length / 2), '0')}`)
    const fields = [
      parent,
      keccak256(RLP.encode([])),
      new Uint8Array(20),
      stateRoot,
      new Uint8Array(32),
      new Uint8Array(32),
      new Uint8Array(256),
      new Uint8Array(),
      word(height),
      word(30_000_000),
      new Uint8Array(),
      word(1_700_000_000 + height),
      encodeBftExtra({ round: 0, parentCertificate: null }),
      new Uint8Array(32),
      new Uint8Array(8),
    ]
    const rlp = RLP.encode(fields)
    const hash = keccak256(rlp)
    const certificate = this.certify(height, hash, 3)
    const s = { height, rlp, hash, stateRoot, certificate }
    this.sealed.push(s)
    return s
  }

  /** A certificate of (height, hash) signed by the first `signers` validators of the set's order. */
  certify(height: number, hash: Uint8Array, signers: number, keys = this.validators.keys): CommitCertificate {
    const set = this.validators.set
    const signatures = []
    for (let i = 0; i < signers; i++) {
      const address = set.at(i)?.address as Uint8Array
      const key = keys[this.validators.genesis.findIndex((g) => Buffer.compare(g.address, address) === 0)] as Uint8Array
      const vote = { type: MsgType.PRECOMMIT, height, round: 0, blockHash: hash }
      signatures.push({ validatorIndex: i, signature: signDigest(voteDigest(this.chainId, vote), key) })
    }
    return { height, round: 0, blockHash: hash, signatures }
  }

  /** The EIP-1186 proof of the bridge's `slot` at sealed `height`. */
  async prove(height: number, slot: Uint8Array): Promise<SlotProof> {
    const s = this.sealed[height - 1]
    if (s === undefined) throw new Error(`height ${height} not sealed`)
    const sm = this.#sm.shallowCopy(false)
    await sm.setStateRoot(s.stateRoot)
    const p = await getMerkleStateProof(sm, new Address(BRIDGE), [slot])
    return {
      accountProof: p.accountProof.map((n) => hexToBytes(n)),
      storageProof: (p.storageProof[0]?.proof ?? []).map((n) => hexToBytes(n)),
    }
  }

  /** A light client of this shard, at its genesis. */
  lightClient(): ShardLightClient {
    return new ShardLightClient({
      shard: this.shard,
      chainId: this.chainId,
      genesisHash: this.genesisHash,
      validators: this.validators.genesis,
    })
  }
}
