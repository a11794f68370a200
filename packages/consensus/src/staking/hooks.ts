/**
 * What a block does for staking, at its end (`endBlock`), producing and importing alike:
 *
 * 1. the block's priority fees leave the proposer's account (the coinbase) and, with the block's
 *    issuance (`Staking.issuance()`, minted), go to `Staking.reward(signed, missed)`: the
 *    community tax, then the validators that signed the parent's commit certificate by power,
 *    commission first, the rest to their delegators; `missed` feeds the downtime window;
 * 2. each piece of duplicate-vote evidence the block carries slashes its validator
 *    (`Staking.slashDoubleSign`, once per evidence key, whoever reported it first);
 * 3. at an epoch boundary (`number % epochLength == 0`), or when a member of the set was jailed or
 *    rotated its consensus key in this block (`pendingSetChange`), `Staking.epochUpdate()`
 *    recomputes the active set (bounded per epoch, removals of jailed validators and key swaps
 *    excepted: docs/consensus/staking.md);
 * 4. the contract's active set after all that is the set of height H+2: the engine turns the
 *    difference with the set it has for H+1 into validator-set updates (a jailed validator leaves
 *    the contract's set when jailed, so it leaves the engine's at H+2).
 *
 * The engine learns signers and evidence from the block's header (its extra data), so the hooks
 * are a function of the block and its state, as `endBlock` must be.
 */

import type { EndBlockContext } from '@cairn/chain'
import { GOVERNANCE_ADDRESS, governanceAbi, STAKING_ADDRESS, stakingAbi } from '@cairn/contracts'
import { bytesToHex, type CairnError, hexToBytes, type Logger } from '@cairn/utils'
import { Address as EthAddress } from '@ethereumjs/util'
import { decodeFunctionResult, encodeFunctionData, type Hex, toEventSelector } from 'viem'
import type { Address } from '../bft/messages.ts'
import type { ChainParams } from '../governance/params.ts'
import { KNOWN_UPGRADES, type UpgradeHandler, type UpgradePlan, upgradeRequired } from '../governance/upgrades.ts'
import { PENALTY_REASONS } from './codes.ts'
import type { StakingMetrics } from './metrics.ts'
import { type SystemBlock, type SystemCallResult, systemCall } from './system-call.ts'

/** One equivocation the block carries. */
export interface StakingEvidence {
  validator: Address
  height: number
  round: number
  type: number
}

/** What the engine read from the block's header for the hooks. */
export interface StakingBlockFacts {
  /** The validators whose precommits are in the parent's commit certificate. */
  signed: Address[]
  /** The parent's validators whose precommits are not. */
  missed: Address[]
  evidence: StakingEvidence[]
}

export interface StakingHooksOptions {
  /** The staking contract (default: `STAKING_ADDRESS`). */
  staking?: Uint8Array
  /** The governance contract (default: `GOVERNANCE_ADDRESS`). */
  governance?: Uint8Array
  /** Scheduled upgrades to go through with this build's rules (`unsafeSkipUpgrades`). */
  skipUpgrades?: readonly string[]
  /** This build's version, for the upgrade message. */
  version?: string
}

export interface StakingHooksModules {
  logger: Logger
  metrics?: StakingMetrics | null
  /** The upgrades this build knows (default `KNOWN_UPGRADES`). */
  upgrades?: ReadonlyMap<string, UpgradeHandler>
  /**
   * Called once when the chain reaches an upgrade this build does not know (the block is refused
   * as well): the node stops there (`UPGRADE_REQUIRED`).
   */
  onHalt?: (err: CairnError) => void
}

/** What a block did: the contract's active set after it (the engine's set of its height + 2) if it changed. */
export interface StakingBlockResult {
  /** The contract's active set after the block, when `epochUpdate` ran in it (else unchanged). */
  set?: { address: Address; power: bigint }[]
  /** Evidence this block slashed (not slashed before). */
  slashed: number
}

export class StakingHooks {
  readonly #staking: Uint8Array
  readonly #governance: Uint8Array
  readonly #opts: StakingHooksOptions
  readonly #m: StakingHooksModules
  #halted = false

  constructor(opts: StakingHooksOptions, modules: StakingHooksModules) {
    this.#staking = opts.staking ?? hexToBytes(STAKING_ADDRESS as Hex)
    this.#governance = opts.governance ?? hexToBytes(GOVERNANCE_ADDRESS as Hex)
    this.#opts = opts
    this.#m = modules
  }

  /**
   * The chain parameters governance set (`Governance.chainParams()`) in the state of `ctx`: the
   * block gas limit a proposer moves toward, the minimum base fee, the block time.
   */
  async chainParams(ctx: Pick<EndBlockContext, 'vm' | 'header'>): Promise<ChainParams> {
    const out = await systemCall(
      ctx.vm,
      systemBlock(ctx as EndBlockContext),
      this.#governance,
      hexToBytes(encodeFunctionData({ abi: governanceAbi, functionName: 'chainParams' })),
      0n,
      true,
    )
    return decodeFunctionResult({
      abi: governanceAbi,
      functionName: 'chainParams',
      data: bytesToHex(out.returnValue),
    }) as ChainParams
  }

  /**
   * The ML-DSA-65 keys the staking contract holds for `addresses` (`Staking.pqPublicKeys`) in the
   * state of `ctx`, in order; an empty array for an address without one. Under a PQ scheme the
   * engine reads the keys of the validators an `endBlock` set brings in, for their change records.
   */
  async pqPublicKeys(ctx: EndBlockContext, addresses: readonly Address[]): Promise<Uint8Array[]> {
    const out = await systemCall(
      ctx.vm,
      systemBlock(ctx),
      this.#staking,
      hexToBytes(
        encodeFunctionData({
          abi: stakingAbi,
          functionName: 'pqPublicKeys',
          args: [addresses.map((a) => bytesToHex(a))],
        }),
      ),
      0n,
      true,
    )
    const keys = this.#decode('pqPublicKeys', out.returnValue) as readonly Hex[]
    return keys.map((k) => hexToBytes(k))
  }

  async endBlock(ctx: EndBlockContext, facts: StakingBlockFacts): Promise<StakingBlockResult> {
    const block = systemBlock(ctx)
    const call = async (data: Hex, value = 0n, isStatic = false) => {
      const out = await systemCall(ctx.vm, block, this.#staking, hexToBytes(data), value, isStatic)
      if (!isStatic) this.#count(out.logs, block.number)
      return out.returnValue
    }

    // 0. A scheduled upgrade at this height: applied, skipped, or the node stops before it.
    await this.#upgrade(ctx, block.number)

    // 1. Fees and issuance to the distribution.
    let fees = 0n
    for (const r of ctx.results) fees += r.minerValue
    if (fees > 0n) {
      const coinbase = new EthAddress(block.coinbase)
      const account = await ctx.state.getAccount(coinbase)
      if (account !== undefined && account.balance >= fees) {
        account.balance -= fees
        await ctx.state.putAccount(coinbase, account)
      } else fees = 0n // cannot happen: the fees were credited to the coinbase by this block
    }
    const issuance = this.#decode(
      'issuance',
      await call(encodeFunctionData({ abi: stakingAbi, functionName: 'issuance' }), 0n, true),
    ) as bigint
    await call(
      encodeFunctionData({
        abi: stakingAbi,
        functionName: 'reward',
        args: [facts.signed.map((a) => bytesToHex(a)), facts.missed.map((a) => bytesToHex(a))],
      }),
      fees + issuance,
    )
    this.#m.metrics?.issued.inc(Number(issuance) / 1e18)

    // 2. Double-sign evidence.
    let slashed = 0
    for (const ev of facts.evidence) {
      const out = await call(
        encodeFunctionData({
          abi: stakingAbi,
          functionName: 'slashDoubleSign',
          args: [bytesToHex(ev.validator), BigInt(ev.height), ev.round, ev.type],
        }),
      )
      if (this.#decode('slashDoubleSign', out) === true) slashed++
    }

    // 3. The epoch boundary.
    const params = this.#decode(
      'params',
      await call(encodeFunctionData({ abi: stakingAbi, functionName: 'params' }), 0n, true),
    ) as { epochLength: bigint }
    // A member jailed or tombstoned in this block leaves at once (its removal is never bounded),
    // and one that rotated its key is swapped: the recompute runs early, at this block.
    const boundary = params.epochLength > 0n && block.number % params.epochLength === 0n
    const jailed =
      !boundary &&
      (this.#decode(
        'pendingSetChange',
        await call(encodeFunctionData({ abi: stakingAbi, functionName: 'pendingSetChange' }), 0n, true),
      ) as boolean)
    if (boundary || jailed) {
      await call(encodeFunctionData({ abi: stakingAbi, functionName: 'epochUpdate' }))
    }

    // 4. The set after the block: it changes only in epochUpdate (the engine's next set already
    // equals the contract's otherwise).
    if (!boundary && !jailed) return { slashed }
    const [addrs, powers] = this.#decode(
      'activeSet',
      await call(encodeFunctionData({ abi: stakingAbi, functionName: 'activeSet' }), 0n, true),
    ) as [Hex[], bigint[]]
    const set = addrs.map((a, i) => ({ address: hexToBytes(a), power: powers[i] as bigint }))
    if (this.#m.metrics) {
      const bonded = this.#decode(
        'totalBonded',
        await call(encodeFunctionData({ abi: stakingAbi, functionName: 'totalBonded' }), 0n, true),
      ) as bigint
      this.#m.metrics.bonded.set(Number(bonded) / 1e18)
      this.#m.metrics.active.set(set.length)
    }
    return { set, slashed }
  }

  /** Slashes and jailings the contract logged in a system call: metrics and a warning each. */
  #count(logs: SystemCallResult['logs'], at: bigint): void {
    for (const [, topics, data] of logs) {
      const topic = topics[0] === undefined ? '' : bytesToHex(topics[0])
      const who = topics[1] === undefined ? '' : `0x${bytesToHex(topics[1]).slice(26)}`
      if (topic === SLASHED) {
        const reason = PENALTY_REASONS[Number(data[63])] ?? 'other'
        this.#m.metrics?.slashes.inc({ reason })
        this.#m.logger.warn({ validator: who, reason, at: Number(at) }, 'validator slashed')
      } else if (topic === JAILED) {
        const reason = PENALTY_REASONS[Number(data[63])] ?? 'other'
        this.#m.metrics?.jailings.inc({ reason })
        this.#m.logger.warn({ validator: who, reason, at: Number(at) }, 'validator jailed')
      }
    }
  }

  /**
   * The scheduled upgrade that stops this node before the height after `ctx.header`, read in the
   * state after that block: the plan and its `UPGRADE_REQUIRED` error when its height is the next one and
   * this build neither knows the upgrade nor was told to skip it; null otherwise. Cosmos halts in
   * `BeginBlock` of the plan's height on every node; here the engine asks this after each block it
   * commits or imports, so every node decides on the same state, before any block of that height
   * is built, voted on or received (block-hooks' `endBlock` refusing the block at the height stays
   * as the last line).
   */
  async upgradeBlocking(
    ctx: Pick<EndBlockContext, 'vm' | 'header'>,
  ): Promise<{ plan: UpgradePlan; error: CairnError } | null> {
    const plan = await this.#plan(ctx)
    const next = (ctx.header as { number: bigint }).number + 1n
    if (plan.name === '' || plan.height !== next || this.#goesThrough(plan.name)) return null
    return { plan, error: upgradeRequired(plan, this.#opts.version ?? 'unknown') }
  }

  /** Stops the node for an upgrade it does not know: logged and `onHalt`, once. */
  halt(err: CairnError, plan: UpgradePlan): void {
    if (this.#halted) return
    this.#halted = true
    this.#m.logger.error({ upgrade: plan.name, height: plan.height }, err.message)
    this.#m.onHalt?.(err)
  }

  async #plan(ctx: Pick<EndBlockContext, 'vm' | 'header'>): Promise<UpgradePlan> {
    const out = await systemCall(
      ctx.vm,
      systemBlock(ctx as EndBlockContext),
      this.#governance,
      hexToBytes(encodeFunctionData({ abi: governanceAbi, functionName: 'upgradePlan' })),
      0n,
      true,
    )
    const [name, height] = decodeFunctionResult({
      abi: governanceAbi,
      functionName: 'upgradePlan',
      data: bytesToHex(out.returnValue),
    }) as readonly [string, bigint]
    return { name, height }
  }

  /** Whether this build goes through the upgrade `name`: it knows it, or was told to skip it. */
  #goesThrough(name: string): boolean {
    return (this.#m.upgrades ?? KNOWN_UPGRADES).has(name) || (this.#opts.skipUpgrades?.includes(name) ?? false)
  }

  async #upgrade(ctx: EndBlockContext, number: bigint): Promise<void> {
    const { name, height } = await this.#plan(ctx)
    if (name === '' || height !== number) return
    const handler = (this.#m.upgrades ?? KNOWN_UPGRADES).get(name)
    if (handler !== undefined) {
      this.#m.logger.info({ upgrade: name, height: number }, 'applying the scheduled upgrade')
      await handler(ctx)
      return
    }
    if (this.#opts.skipUpgrades?.includes(name)) {
      this.#m.logger.warn({ upgrade: name, height: number }, 'skipping the scheduled upgrade (--unsafe-skip-upgrades)')
      return
    }
    const err = upgradeRequired({ name, height }, this.#opts.version ?? 'unknown')
    this.halt(err, { name, height })
    throw err
  }

  #decode(functionName: (typeof stakingAbi)[number]['name'], data: Uint8Array): unknown {
    return decodeFunctionResult({ abi: stakingAbi, functionName, data: bytesToHex(data) } as never)
  }
}

const SLASHED = toEventSelector('Slashed(address,uint256,uint8)')
const JAILED = toEventSelector('Jailed(address,uint64,uint8)')

function systemBlock(ctx: EndBlockContext): SystemBlock {
  const h = ctx.header as {
    number: bigint
    timestamp: bigint
    coinbase: Uint8Array | { bytes: Uint8Array }
    gasLimit?: bigint
  }
  const coinbase = h.coinbase instanceof Uint8Array ? h.coinbase : h.coinbase.bytes
  return {
    number: h.number,
    timestamp: h.timestamp,
    coinbase,
    ...(h.gasLimit !== undefined ? { gasLimit: h.gasLimit } : {}),
  }
}
