/**
 * The validator set of every height, with the changes decided by the chain (CometBFT's rule: the
 * validator-set updates returned by block H's `endBlock` apply from height H+2).
 *
 *   set(1)   = create(genesis)
 *   set(h+1) = (changes(h+1) ? set(h).update(changes(h+1)) : set(h)).copyIncrementProposerPriority(1)
 *
 * where changes(e) are the updates of block e−2 (`ValidatorSet.update` is CometBFT's
 * `UpdateWithChangeSet`; the one increment per height is its `updateState`). Block e−1 carries
 * them in its extra data (`extra-data.ts`, version 3), so the schedule follows from the headers
 * alone: {@link ValidatorSchedule.recordHeader} reads a header, {@link encodeScheduleChanges}
 * persists what was read. Deterministic, no I/O.
 */
import { ML_DSA65_PUBLIC_KEY_BYTES } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { type Address, hashKey } from './messages.ts'
import { needsPqKeys, type SignatureScheme } from './pq/scheme.ts'
import { ValidatorSet } from './validator-set.ts'

/**
 * One change: power 0 removes the validator. Under a PQ scheme a change that brings a validator
 * into the set carries its ML-DSA-65 public key (1,952 bytes); a member's power change or removal
 * carries none (the member keeps its key).
 */
export interface ValidatorChange {
  address: Address
  votingPower: bigint
  pqPublicKey?: Uint8Array | null
}

function bigintToBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array()
  let hex = v.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  return Uint8Array.from(hex.match(/../g) as string[], (b) => Number.parseInt(b, 16))
}

function bytesToBigint(b: Uint8Array): bigint {
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v
}

function malformed(message: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_MALFORMED, `validator changes: ${message}`, { fault: 'peer' })
}

/**
 * RLP of the changes in the given order: `[address, power]` each, `[address, power, pqPublicKey]`
 * for one that carries an ML-DSA-65 key (a joiner under a PQ scheme). Without keys the bytes are
 * exactly the secp256k1 format's.
 */
export function encodeValidatorChanges(changes: readonly ValidatorChange[]): Uint8Array {
  return RLP.encode(
    changes.map((c) =>
      c.pqPublicKey == null
        ? [c.address, bigintToBytes(c.votingPower)]
        : [c.address, bigintToBytes(c.votingPower), c.pqPublicKey],
    ),
  )
}

/**
 * Decodes a list of `[address, power]` / `[address, power, pqPublicKey]` already RLP-decoded (or
 * its bytes). A key is 1,952 bytes and only on a change with power; under `secp256k1` no entry
 * carries one. `scheme` undefined (this node's own records): keys are checked for size only.
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'peer')
 */
export function decodeValidatorChanges(input: Uint8Array | unknown[], scheme?: SignatureScheme): ValidatorChange[] {
  const list = input instanceof Uint8Array ? RLP.decode(input) : input
  if (!Array.isArray(list)) throw malformed('not a list')
  return list.map((item) => {
    if (!Array.isArray(item) || item.length < 2 || item.length > 3) {
      throw malformed('an entry is not [address, power] or [address, power, pqPublicKey]')
    }
    const [address, power, key] = item as unknown[]
    if (!(address instanceof Uint8Array) || address.length !== 20) throw malformed('an address is not 20 bytes')
    if (!(power instanceof Uint8Array) || power.length > 8 || (power.length > 0 && power[0] === 0)) {
      throw malformed('bad power')
    }
    const votingPower = bytesToBigint(power)
    if (key === undefined) return { address, votingPower }
    if (scheme !== undefined && !needsPqKeys(scheme)) throw malformed('an entry carries an ML-DSA key under secp256k1')
    if (!(key instanceof Uint8Array) || key.length !== ML_DSA65_PUBLIC_KEY_BYTES) {
      throw malformed(`an ML-DSA-65 key is not ${ML_DSA65_PUBLIC_KEY_BYTES} bytes`)
    }
    if (votingPower === 0n) throw malformed('a removal carries an ML-DSA key')
    return { address, votingPower, pqPublicKey: key }
  })
}

function sameKey(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (a == null || b == null) return a == null && b == null
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** True when the two lists are the same changes (keys included) in the same order. */
export function sameChanges(a: readonly ValidatorChange[], b: readonly ValidatorChange[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => {
      const d = b[i] as ValidatorChange
      return (
        hashKey(c.address) === hashKey(d.address) &&
        c.votingPower === d.votingPower &&
        sameKey(c.pqPublicKey, d.pqPublicKey)
      )
    })
  )
}

/** What a schedule persists: the changes by height of effect, and the height its headers were read to. */
export interface ScheduleRecord {
  /** Headers up to this height were read into the changes. */
  scannedTo: number
  changes: Map<number, ValidatorChange[]>
}

export function encodeScheduleRecord(r: ScheduleRecord): Uint8Array {
  const entries = [...r.changes.entries()].sort((a, b) => a[0] - b[0])
  return RLP.encode([
    bigintToBytes(BigInt(r.scannedTo)),
    entries.map(([h, cs]) => [bigintToBytes(BigInt(h)), RLP.decode(encodeValidatorChanges(cs))]),
  ] as never)
}

export function decodeScheduleRecord(bytes: Uint8Array): ScheduleRecord {
  const d = RLP.decode(bytes) as unknown
  if (!Array.isArray(d) || d.length !== 2 || !(d[0] instanceof Uint8Array) || !Array.isArray(d[1])) {
    throw malformed('not [scannedTo, changes]')
  }
  const changes = new Map<number, ValidatorChange[]>()
  for (const e of d[1] as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || !(e[0] instanceof Uint8Array) || !Array.isArray(e[1])) {
      throw malformed('an entry is not [height, changes]')
    }
    changes.set(Number(bytesToBigint(e[0])), decodeValidatorChanges(e[1] as unknown[]))
  }
  return { scannedTo: Number(bytesToBigint(d[0])), changes }
}

export class ValidatorSchedule {
  readonly #genesis: ValidatorSet
  /** Changes by height of effect. */
  readonly #changes = new Map<number, ValidatorChange[]>()
  /** Every `stride` heights a set is kept (index k: height k·stride + 1); the ones between are recomputed. */
  readonly #stride = 256
  #checkpoints: ValidatorSet[] = []
  /** The sets asked for lately, by height. */
  readonly #recent = new Map<number, ValidatorSet>()
  /** The highest height whose header was recorded (changes for heights up to it + 1 are known). */
  #scannedTo = 0
  /** Heights of effect of the changes the genesis schedules (`config.cairn.bft.validatorChanges`): no header carries them. */
  readonly #configured = new Set<number>()

  /**
   * @param scheme the chain's consensus signature scheme (default secp256k1): under a PQ scheme the
   * genesis entries carry their ML-DSA keys, and a change may not bring a validator without one
   * (`[address, power, pqPublicKey]`, docs/consensus/post-quantum.md)
   */
  constructor(
    genesis: readonly { address: Address; votingPower: bigint; pqPublicKey?: Uint8Array | null }[],
    changes?: ReadonlyMap<number, readonly ValidatorChange[]>,
    scheme: SignatureScheme = 'secp256k1',
  ) {
    this.#genesis = ValidatorSet.create(genesis, scheme)
    this.#checkpoints.push(this.#genesis)
    for (const [h, cs] of [...(changes ?? [])].sort((a, b) => a[0] - b[0])) {
      if (this.record(h, cs)) this.#configured.add(h)
    }
  }

  /** The chain's consensus signature scheme (every set's). */
  get scheme(): SignatureScheme {
    return this.#genesis.scheme
  }

  /** The height headers were read to (see {@link recordHeader}). */
  get scannedTo(): number {
    return this.#scannedTo
  }

  /** The changes taking effect at `height`, if any. */
  changesAt(height: number): readonly ValidatorChange[] | undefined {
    return this.#changes.get(height)
  }

  /** Every recorded change, by height of effect (what to persist). */
  toRecord(): ScheduleRecord {
    return { scannedTo: this.#scannedTo, changes: new Map(this.#changes) }
  }

  /**
   * Records the changes that take effect at `height` (the updates of block height − 2). Idempotent.
   * @returns true when it is new
   * @throws CairnError `CONSENSUS_BFT_INVALID_VALIDATOR_SET` when other changes were recorded for
   * that height, or they do not apply to the set of height − 1
   */
  record(height: number, changes: readonly ValidatorChange[]): boolean {
    if (!Number.isSafeInteger(height) || height < 3) {
      throw new CairnError(
        ConsensusErrorCode.BFT_INVALID_VALIDATOR_SET,
        `changes cannot take effect at height ${height}`,
        {
          fault: 'caller',
        },
      )
    }
    if (changes.length === 0) return false
    const known = this.#changes.get(height)
    if (known !== undefined) {
      if (sameChanges(known, changes)) return false
      throw new CairnError(
        ConsensusErrorCode.BFT_INVALID_VALIDATOR_SET,
        `other validator changes were recorded for height ${height}`,
        { fault: 'caller' },
      )
    }
    // They must apply (CometBFT halts otherwise; here the block that returns them is invalid).
    this.at(height - 1).update(changes)
    this.#changes.set(
      height,
      changes.map((c) =>
        c.pqPublicKey == null
          ? { address: c.address, votingPower: c.votingPower }
          : { address: c.address, votingPower: c.votingPower, pqPublicKey: c.pqPublicKey },
      ),
    )
    // Sets at or after `height` computed before are stale.
    // (checkpoint k is the set of height k·stride + 1: keep those below `height`)
    this.#checkpoints = this.#checkpoints.slice(0, Math.max(1, Math.ceil((height - 1) / this.#stride)))
    for (const h of [...this.#recent.keys()]) if (h >= height) this.#recent.delete(h)
    return true
  }

  /**
   * Records what a header of `height` carries: the validator updates of its parent, in effect at
   * height + 1. Headers must come in order of height (each one's set depends on the ones before).
   */
  recordHeader(height: number, carried: readonly ValidatorChange[]): boolean {
    const fresh = height >= 2 && carried.length > 0 ? this.record(height + 1, carried) : false
    if (height > this.#scannedTo) this.#scannedTo = height
    return fresh
  }

  /** Marks headers up to `height` as read (none carried changes). */
  markScanned(height: number): void {
    if (height > this.#scannedTo) this.#scannedTo = height
  }

  /** The set of `height` (≥ 1). */
  at(height: number): ValidatorSet {
    if (!Number.isSafeInteger(height) || height < 1) {
      throw new CairnError(ConsensusErrorCode.BFT_INVALID_HEADER, `no validator set for height ${height}`, {
        fault: 'caller',
      })
    }
    const cached = this.#recent.get(height)
    if (cached !== undefined) return cached
    const slot = Math.floor((height - 1) / this.#stride)
    while (this.#checkpoints.length <= slot) {
      const k = this.#checkpoints.length - 1
      let set = this.#checkpoints[k] as ValidatorSet
      for (let h = k * this.#stride + 1; h < (k + 1) * this.#stride + 1; h++) set = this.#next(set, h + 1)
      this.#checkpoints.push(set)
    }
    let set = this.#checkpoints[slot] as ValidatorSet
    for (let h = slot * this.#stride + 1; h < height; h++) set = this.#next(set, h + 1)
    if (this.#recent.size >= 16) this.#recent.delete(this.#recent.keys().next().value as number)
    this.#recent.set(height, set)
    return set
  }

  /** The set of `height` from the set of the height before. */
  #next(prev: ValidatorSet, height: number): ValidatorSet {
    const changes = this.#changes.get(height)
    // One increment per height, as CometBFT (several at once rescale differently).
    return (changes === undefined ? prev : prev.update(changes)).copyIncrementProposerPriority(1)
  }

  /**
   * The set of `height + 1` as the block of `height` that carries `carried` (its parent's updates,
   * in effect at `height + 1`) makes it: the set of `height` with those changes, as
   * {@link at}`(height + 1)` once that header is recorded. A function of the block and the heights
   * below it, not of which headers this node happened to record already: a block may execute
   * before its header is checked (a range sync executes the next block ahead while this one
   * commits), and what its `endBlock` returns must not depend on that race.
   * @throws CairnError `CONSENSUS_BFT_INVALID_VALIDATOR_SET` when the changes do not apply
   */
  setAfter(height: number, carried: readonly ValidatorChange[]): ValidatorSet {
    const recorded = this.#changes.get(height + 1)
    // Changes the genesis schedules ride in no header: they hold whatever a block carries.
    const changes = this.#configured.has(height + 1) ? (recorded ?? []) : carried
    if (sameChanges(changes, recorded ?? [])) return this.at(height + 1)
    const base = this.at(height)
    return (changes.length === 0 ? base : base.update(changes)).copyIncrementProposerPriority(1)
  }

  /** The proposer's address for (height, round). */
  proposer(height: number, round: number): Address {
    const set = this.at(height)
    return (set.at(set.proposerIndex(round)) as { address: Address }).address
  }
}
