/**
 * The BFT engine's validator records in the chain's engine data (`chain.engineData`), as CometBFT's
 * state store keeps the validator sets and each block's ABCI responses: the validator updates each
 * block's `endBlock` returned, by block hash (memory and the store; pruned once a final header
 * carries them), and the {@link ValidatorSchedule} (the changes by height of effect and how far the
 * headers were read into it), saved and restored at start.
 */
import type { BlockReader, BuildResult, EngineData } from '@cairn/chain'
import { bytesToHex, equalsBytes, type Logger } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { decodeBftExtra } from './extra-data.ts'
import { hashKey } from './messages.ts'
import {
  decodeScheduleRecord,
  decodeValidatorChanges,
  encodeScheduleRecord,
  encodeValidatorChanges,
  type ValidatorChange,
  type ValidatorSchedule,
} from './validator-schedule.ts'

/** The engine-data keys (`chain.engineData`: the chain store's meta bucket) the engine keeps the schedule under. */
const SCHEDULE_KEY = 'bft/validator-schedule'
const UPDATES_KEY = (hash: Uint8Array) => `bft/validator-updates/${bytesToHex(hash)}`

/** The chain as the records read it: its blocks, its head and the engine's data. */
export type RecordsChain = BlockReader & { readonly head: Block; readonly engineData: EngineData }

export interface ValidatorRecordsModules {
  /** The engine's schedule (the records restore it and save it). */
  validators: ValidatorSchedule
  /** The chain the engine is attached to; undefined before `attach` (nothing is read or written then). */
  chain: () => RecordsChain | undefined
  logger: Logger
}

/**
 * A validator update as the BFT engine returns it from `endBlock`: the chain's `ValidatorUpdate`,
 * with the ML-DSA-65 key of a validator it brings into a PQ-scheme set.
 */
export interface KeyedValidatorUpdate {
  address: Uint8Array
  power: bigint
  pqPublicKey?: Uint8Array | null
}

export class ValidatorRecords {
  readonly #m: ValidatorRecordsModules
  /** The validator updates `endBlock` returned, by block hash (recent; the chain store keeps them too). */
  #updates = new Map<string, ValidatorChange[]>()
  /** The updates records of canonical blocks up to this height are pruned (see {@link prune}). */
  #prunedTo = 0

  constructor(_opts: Record<string, never>, modules: ValidatorRecordsModules) {
    this.#m = modules
  }

  /**
   * The validator updates the block of `header` returned from `endBlock` (none: empty). The record
   * of a canonical block whose child is final is pruned ({@link prune}); the child's header carries
   * them (checked against the record when it was imported), so they are read from there.
   */
  async updatesOf(header: BlockHeader, blocks: BlockReader | undefined = this.#m.chain()): Promise<ValidatorChange[]> {
    const hash = header.hash()
    const known = this.#updates.get(hashKey(hash))
    if (known !== undefined) return known
    if (blocks === undefined) return []
    const data = this.#m.chain()?.engineData
    const bytes = await data?.get(UPDATES_KEY(hash))
    if (bytes !== undefined) return decodeValidatorChanges(bytes)
    if (header.number > BigInt(this.#prunedTo)) return []
    const canonical = await blocks.getCanonicalHash(header.number)
    const child = await blocks.getCanonicalHash(header.number + 1n)
    if (canonical === undefined || !equalsBytes(canonical, hash) || child === undefined) return []
    const childHeader = await blocks.getHeader(child)
    try {
      return childHeader === undefined
        ? []
        : (decodeBftExtra(childHeader.extraData, this.#m.validators.scheme).validatorChanges ?? [])
    } catch {
      return []
    }
  }

  /** Keeps a block's validator updates (memory and the chain store) before the block is stored. */
  async keepUpdates(hash: Uint8Array, changes: ValidatorChange[]): Promise<void> {
    this.#updates.set(hashKey(hash), changes)
    if (this.#updates.size > 64) this.#updates.delete(this.#updates.keys().next().value as string)
    await this.#m.chain()?.engineData.put(UPDATES_KEY(hash), encodeValidatorChanges(changes))
  }

  /**
   * Replaces the record of a block's updates with `changes` (none: the record goes), e.g. after
   * executing the block again because the record was found stale.
   */
  async replaceUpdates(hash: Uint8Array, changes: ValidatorChange[]): Promise<void> {
    if (changes.length > 0) return this.keepUpdates(hash, changes)
    this.#updates.delete(hashKey(hash))
    await this.#m.chain()?.engineData.del(UPDATES_KEY(hash))
  }

  /** Keeps the validator updates a block this node built returned from `endBlock`, if any. */
  async keepBuilt(built: Pick<BuildResult, 'block' | 'endBlock'>): Promise<void> {
    const updates = built.endBlock?.validatorUpdates ?? []
    if (updates.length > 0) {
      await this.keepUpdates(
        built.block.hash(),
        updates.map((u) => {
          // Under a PQ scheme the engine's updates carry a joiner's key (`KeyedValidatorUpdate`).
          const key = (u as KeyedValidatorUpdate).pqPublicKey
          return key == null
            ? { address: u.address, votingPower: u.power }
            : { address: u.address, votingPower: u.power, pqPublicKey: key }
        }),
      )
    }
  }

  /** Records the validator changes a block of `height` this node proposes carries (saved when new). */
  async recordCarried(height: number, changes: ValidatorChange[]): Promise<void> {
    if (this.#m.validators.recordHeader(height, changes)) await this.saveSchedule()
  }

  /**
   * Prunes the updates records of the canonical blocks up to `finalized − 1`: each one's child is
   * final, so its updates are in a final header and in the schedule (recorded and saved when that
   * header was read, before this runs). Kept: the records of the last final block (its updates are
   * in no header yet: the next block carries them) and of the blocks above it. The blocks with a
   * record are those whose updates take effect two heights later (the schedule knows which).
   */
  async prune(chain: RecordsChain, finalized: number): Promise<void> {
    const to = finalized - 1
    if (to <= this.#prunedTo) return
    for (let h = this.#prunedTo + 1; h <= to; h++) {
      if (this.#m.validators.changesAt(h + 2) === undefined) continue
      const hash = await chain.getCanonicalHash(BigInt(h))
      if (hash === undefined) continue
      this.#updates.delete(hashKey(hash))
      await chain.engineData.del(UPDATES_KEY(hash))
    }
    this.#prunedTo = to
  }

  /** Persists the schedule (the changes by height of effect and how far the headers were read). */
  async saveSchedule(): Promise<void> {
    await this.#m.chain()?.engineData.put(SCHEDULE_KEY, encodeScheduleRecord(this.#m.validators.toRecord()))
  }

  /**
   * The schedule back from the chain: the persisted record, then the headers above where it was
   * read to (each carries its parent's updates), up to the head.
   */
  async restoreSchedule(chain: RecordsChain): Promise<void> {
    const validators = this.#m.validators
    const bytes = await chain.engineData.get(SCHEDULE_KEY)
    if (bytes !== undefined) {
      const record = decodeScheduleRecord(bytes)
      for (const [h, cs] of [...record.changes.entries()].sort((a, b) => a[0] - b[0])) validators.record(h, cs)
      validators.markScanned(record.scannedTo)
    }
    const head = Number(chain.head.header.number)
    let changed = false
    for (let h = Math.max(2, validators.scannedTo + 1); h <= head; h++) {
      const hash = await chain.getCanonicalHash(BigInt(h))
      const header = hash === undefined ? undefined : await chain.getHeader(hash)
      if (header === undefined) break
      changed = this.recordHeader(header) || changed
    }
    validators.markScanned(head)
    if (changed || bytes === undefined) await this.saveSchedule()
  }

  /** Records the validator changes a header carries into the schedule; true when new. */
  recordHeader(header: BlockHeader): boolean {
    let changes: ValidatorChange[]
    try {
      changes = decodeBftExtra(header.extraData, this.#m.validators.scheme).validatorChanges ?? []
    } catch {
      return false
    }
    return this.#m.validators.recordHeader(Number(header.number), changes)
  }

  /**
   * This node committed the block of `height` (`header`); `others`: the hashes of the height's
   * other executed proposals. The schedule takes what the block carries (in effect at height + 1)
   * and what it returned from `endBlock` (height + 2), saved when new — both were checked before
   * (the header on import, the updates in `endBlock`): a failure here is a bug, logged, and must
   * not stop the commit's bookkeeping. The updates records of the other proposals go (none can
   * become canonical now), and those pruned below the committed height.
   */
  async committed(chain: RecordsChain, height: number, header: BlockHeader, others: Uint8Array[]): Promise<void> {
    try {
      let changed = this.recordHeader(header)
      const own = await this.updatesOf(header)
      if (own.length > 0) changed = this.#m.validators.record(height + 2, own) || changed
      if (changed) await this.saveSchedule()
    } catch (err) {
      this.#m.logger.error({ err, height }, 'cannot record the validator-set changes of a committed block')
    }
    for (const hash of others) {
      const key = hashKey(hash)
      if (!this.#updates.has(key)) continue
      this.#updates.delete(key)
      await chain.engineData.del(UPDATES_KEY(hash))
    }
    await this.prune(chain, height)
  }
}
