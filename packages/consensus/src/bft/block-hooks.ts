/**
 * The BFT engine's block hooks, the seams staking and governance reach the chain through:
 * `endBlock`'s validator-set updates (from staking's `StakingHooks`, or a test's
 * `ValidatorUpdateSource`), in effect at the block's height + 2, and `beginBlock`'s header checks
 * by governance's chain parameters (gas limit target, minimum base fee); and, for the driver, the
 * parameters after a block (the header of a block to build on it, the block time after a commit).
 * Split out of bft-engine.ts: these read the schedule, the records and the chain, never the
 * machine.
 */
import type { BlockHookContext, EndBlockContext, EndBlockResult, EngineChain, ValidatorUpdate } from '@cairn/chain'
import { bytesToHex, CairnError, type Logger } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { ConsensusErrorCode } from '../errors.ts'
import { governedHeader, MAX_BLOCK_TIME_MS } from '../governance/governed-header.ts'
import type { ChainParams } from '../governance/params.ts'
import type { StakingHooks } from '../staking/hooks.ts'
import { type BftExtra, bftExtraEvidence, decodeBftExtra } from './extra-data.ts'
import type { Address } from './messages.ts'
import { needsPqKeys } from './pq/scheme.ts'
import { admitValidatorChanges } from './pq/scheme-changes.ts'
import type { KeyedValidatorUpdate, ValidatorRecords } from './validator-records.ts'
import type { ValidatorSchedule } from './validator-schedule.ts'
import type { ValidatorSet } from './validator-set.ts'

/**
 * Where validator-set changes come from until staking exists: called in every block's `endBlock`
 * (producing and importing alike, so it must be deterministic: a function of the block and its
 * state). The updates of block H take effect at H+2. Tests pass one; a node passes none (the set
 * stays the genesis set) unless the genesis schedules changes (`config.cairn.bft.validatorChanges`).
 */
export type ValidatorUpdateSource = (
  ctx: EndBlockContext,
) => readonly ValidatorUpdate[] | undefined | Promise<readonly ValidatorUpdate[] | undefined>

export interface BftBlockHooksOptions {
  chainId: bigint
  /** The configured wait after a commit (ms): the block time when governance sets none. */
  commitMs: number
}

export interface BftBlockHooksModules {
  logger: Logger
  /** Proof of stake: rewards, slashing and the set from the staking contract (replaces `validatorUpdates`). */
  staking?: StakingHooks | undefined
  /** Validator-set changes without staking; neither: the genesis set forever. */
  validatorUpdates?: ValidatorUpdateSource | undefined
  validators: ValidatorSchedule
  records: ValidatorRecords
  /** The attached chain (throws before `attach`). */
  chain: () => EngineChain
}

export class BftBlockHooks {
  readonly #opts: BftBlockHooksOptions
  readonly #m: BftBlockHooksModules
  /** Governance's chain parameters after one block (see #chainParamsAfter). */
  #chainParams: { key: string; params: ChainParams } | undefined

  constructor(opts: BftBlockHooksOptions, modules: BftBlockHooksModules) {
    this.#opts = opts
    this.#m = modules
  }

  /**
   * Governance's gas limit and base fee for a block on `parent`, from the parameters already read
   * after it ({@link warmChainParams}); undefined when they were not (an older parent, no staking).
   */
  cachedGovernedOn(parent: Block): { gasLimit: bigint; baseFeePerGas?: bigint } | undefined {
    const cached = this.#chainParams
    return cached !== undefined && cached.key === bytesToHex(parent.hash())
      ? governedHeader(parent.header, cached.params)
      : undefined
  }

  /**
   * The block's validator-set updates (`modules.validatorUpdates`), in effect at its height + 2.
   * Updates that do not apply to the next height's set (a removal of a non-member, an empty set, a
   * repeated address) make the block invalid. Kept by block hash: the next block must carry them.
   */
  async endBlock(ctx: EndBlockContext): Promise<EndBlockResult | undefined> {
    if (this.#m.staking === undefined && this.#m.validatorUpdates === undefined) return undefined
    const extra = this.#extraOf(ctx)
    // The set the updates are a difference with: the next height's as this block makes it (the set
    // of its height and the changes it carries), never the schedule's `at(height + 1)`, which holds
    // the carried changes only once this header was recorded — a block executed ahead of its
    // header check (a range sync's next block) would otherwise return a change already in effect.
    const next = this.#m.validators.setAfter(Number(ctx.header.number), extra?.validatorChanges ?? [])
    const updates = this.#m.staking
      ? await this.#stakingUpdates(ctx, extra, next)
      : await this.#m.validatorUpdates?.(ctx)
    if (updates === undefined || updates.length === 0) return undefined
    // Under a PQ scheme a joiner without an ML-DSA key is left out, logged (pq/scheme-changes.ts).
    // A joiner's key rides along (`[address, power, pqPublicKey]`, validator-schedule.ts).
    const { admitted: changes } = admitValidatorChanges(
      next,
      updates.map((u) => {
        const key = (u as KeyedValidatorUpdate).pqPublicKey
        return key == null
          ? { address: u.address, votingPower: u.power }
          : { address: u.address, votingPower: u.power, pqPublicKey: key }
      }),
      this.#m.logger,
    )
    if (changes.length === 0) return undefined
    next.update(changes)
    if ('hash' in ctx.header) await this.#m.records.keepUpdates(ctx.header.hash(), changes)
    const validatorUpdates: KeyedValidatorUpdate[] = changes.map((u) =>
      u.pqPublicKey == null
        ? { address: u.address, power: u.votingPower }
        : { address: u.address, power: u.votingPower, pqPublicKey: u.pqPublicKey },
    )
    return { validatorUpdates }
  }

  /**
   * With staking, the header follows governance's chain parameters (`Governance.chainParams()` in
   * the parent's state): the gas limit moves toward the target as far as Ethereum's 1/1024 rule
   * allows (geth's `CalcGasLimit`), so every tool's assumption about gas limits holds, and the base
   * fee is EIP-1559's raised to the minimum base fee ({@link baseFeeFloor}). Checked here on every
   * block, built or received, before its transactions.
   */
  async beginBlock(ctx: BlockHookContext): Promise<void> {
    const hooks = this.#m.staking
    if (hooks === undefined || ctx.parent === undefined) return
    const params = await hooks.chainParams(ctx)
    const expected = governedHeader(ctx.parent, params)
    const header = ctx.header as { gasLimit: bigint; baseFeePerGas?: bigint }
    const wrong = (what: string) =>
      new CairnError(ConsensusErrorCode.BFT_INVALID_HEADER, `block ${ctx.header.number} ${what}`, { fault: 'peer' })
    if (header.gasLimit !== expected.gasLimit) {
      throw wrong(
        `has gas limit ${header.gasLimit}; governance's target ${params.blockGasLimit} from the parent's ${ctx.parent.gasLimit} gives ${expected.gasLimit}`,
      )
    }
    if (expected.baseFeePerGas !== undefined && header.baseFeePerGas !== expected.baseFeePerGas) {
      throw wrong(
        `has base fee ${header.baseFeePerGas}; EIP-1559's raised to governance's minimum ${params.minBaseFee} gives ${expected.baseFeePerGas}`,
      )
    }
  }

  /** Governance may set a minimum base fee (staking): the chain's header checks leave it to {@link beginBlock}. */
  get baseFeeFloor(): boolean {
    return this.#m.staking !== undefined
  }

  /** The gas limit and base fee of a block on `parent` by governance's parameters (staking), or undefined. */
  async governedOn(parent: Block): Promise<{ gasLimit: bigint; baseFeePerGas?: bigint } | undefined> {
    const params = await this.#chainParamsAfter(parent.header)
    return params === undefined ? undefined : governedHeader(parent.header, params)
  }

  /**
   * The block time governance set in the state after `header` (staking), for the wait before the
   * next height; the configured one otherwise, or when it cannot be read or is out of range.
   */
  async blockTimeAfter(header: BlockHeader): Promise<number> {
    const configured = this.#opts.commitMs
    try {
      const ms = (await this.#chainParamsAfter(header))?.blockTimeMs
      return ms !== undefined && ms > 0n && ms <= BigInt(MAX_BLOCK_TIME_MS) ? Number(ms) : configured
    } catch (err) {
      this.#m.logger.warn({ err, height: Number(header.number) }, 'bft: could not read the block time governance set')
      return configured
    }
  }

  /** Reads governance's parameters after a new head, for the engine's `nextBlockEnv`; a failure is logged, not raised. */
  async warmChainParams(header: BlockHeader): Promise<void> {
    if (this.#m.staking === undefined) return
    try {
      await this.#chainParamsAfter(header)
    } catch (err) {
      this.#m.logger.warn({ err, height: Number(header.number) }, 'bft: could not read the chain parameters')
    }
  }

  /**
   * Governance's chain parameters in the state after `header` (staking; undefined without it or
   * without that state). The last one read is kept: a commit and the proposal on it ask the same block.
   */
  async #chainParamsAfter(header: BlockHeader): Promise<ChainParams | undefined> {
    const hooks = this.#m.staking
    const chain = this.#m.chain()
    if (hooks === undefined || !chain.hasState(header.stateRoot)) return undefined
    const key = bytesToHex(header.hash())
    if (this.#chainParams?.key === key) return this.#chainParams.params
    const params = await hooks.chainParams({ vm: await chain.vmAt(header), header })
    this.#chainParams = { key, params }
    return params
  }

  /** The block's BFT extra data, or null when it has none (decoded from the header being executed). */
  #extraOf(ctx: EndBlockContext): BftExtra | null {
    const extraData = 'extraData' in ctx.header ? ctx.header.extraData : undefined
    return extraData === undefined || extraData.length === 0
      ? null
      : decodeBftExtra(extraData, this.#m.validators.scheme)
  }

  /**
   * Staking's end of block (`StakingHooks`): rewards by the parent's certificate, slashes by the
   * block's evidence, the epoch's set; returns the difference between the contract's set after
   * the block and `next`, the engine's set of the next height as this block makes it, as updates in
   * effect at height + 2. Under a
   * PQ scheme a joiner's update carries its ML-DSA-65 key, read from the contract
   * (`Staking.pqPublicKeys`) in the same state.
   */
  async #stakingUpdates(
    ctx: EndBlockContext,
    extra: BftExtra | null,
    next: ValidatorSet,
  ): Promise<KeyedValidatorUpdate[]> {
    const hooks = this.#m.staking as StakingHooks
    const signed: Address[] = []
    const missed: Address[] = []
    const cert = extra?.parentCertificate ?? null
    if (cert !== null && cert.height >= 1) {
      const parentSet = this.#m.validators.at(cert.height)
      const present = new Set(cert.signatures.map((s) => s.validatorIndex))
      parentSet.validators.forEach((v, i) => {
        ;(present.has(i) ? signed : missed).push(v.address)
      })
    }
    const evidence =
      extra === null
        ? []
        : bftExtraEvidence(extra, this.#opts.chainId, this.#m.validators.scheme).map((ev) => ({
            validator: ev.validator,
            height: ev.voteA.height,
            round: ev.voteA.round,
            type: ev.voteA.type,
          }))
    const { set } = await hooks.endBlock(ctx, { signed, missed, evidence })
    if (set === undefined) return []
    const updates: KeyedValidatorUpdate[] = []
    const joiners: KeyedValidatorUpdate[] = []
    const inContract = new Set<string>()
    for (const v of set) {
      inContract.add(bytesToHex(v.address))
      const i = next.indexOf(v.address)
      if (i < 0 || next.validators[i]?.votingPower !== v.power) {
        const u: KeyedValidatorUpdate = { address: v.address, power: v.power }
        updates.push(u)
        if (i < 0) joiners.push(u)
      }
    }
    for (const v of next.validators) {
      if (!inContract.has(bytesToHex(v.address))) updates.push({ address: v.address, power: 0n })
    }
    if (needsPqKeys(next.scheme) && joiners.length > 0) {
      const keys = await hooks.pqPublicKeys(
        ctx,
        joiners.map((u) => u.address),
      )
      joiners.forEach((u, i) => {
        const key = keys[i]
        if (key !== undefined && key.length > 0) u.pqPublicKey = key
      })
    }
    return updates
  }
}
