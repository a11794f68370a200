import { lazyKzg } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { paramsBlock } from '@ethereumjs/block'
import { Common, type CustomCrypto, createCustomCommon, Mainnet, type ParamsDict } from '@ethereumjs/common'
import { paramsEVM } from '@ethereumjs/evm'
import { paramsTx } from '@ethereumjs/tx'
import { bytesToBigInt } from '@ethereumjs/util'
import { paramsVM } from '@ethereumjs/vm'
import { ChainErrorCode } from '../errors.ts'
import { type ForkSchedule, forkAt, singleForkSchedule } from './fork-schedule.ts'

/** The rulesets `config.cairn.hardfork` selects (all forks up to it from block 0). Osaka by default. */
export const SUPPORTED_HARDFORKS = ['cancun', 'prague', 'osaka'] as const
export type SupportedHardfork = (typeof SUPPORTED_HARDFORKS)[number]
export const DEFAULT_HARDFORK: SupportedHardfork = 'osaka'

export interface ChainCommonOptions {
  chainId: bigint
  hardfork: string
  /** Native secp256k1 and fast keccak from `@cairn/crypto`. */
  customCrypto?: CustomCrypto
}

/**
 * A shared `Common` for a chain that runs one ruleset from block 0 (every hardfork up to
 * `hardfork` active at genesis, as geth's dev mode does).
 */
export function createChainCommon(opts: ChainCommonOptions): Common {
  return new ChainCommons(singleForkSchedule(opts.chainId, opts.hardfork), opts.customCrypto).fork(opts.hardfork)
}

/** The header fields that choose a block's rules. */
export interface ForkKey {
  number: bigint
  timestamp: bigint
  difficulty: bigint
}

/**
 * One shared `Common` per fork of a chain's schedule ({@link shareable}: never copied, parameter
 * tables merged once), made when first needed, and the choice of the one a block runs under.
 * Every Common has the whole schedule (so @ethereumjs's `hardforkBlock`, `gteHardfork` and the
 * blob schedule answer as for the chain) and is fixed to its own fork: none is ever switched.
 */
export class ChainCommons {
  private readonly byFork = new Map<string, Common>()
  /** The only fork when the chain runs one ruleset from genesis (the common case: no lookup). */
  private readonly single: string | undefined
  private readonly kzg: NonNullable<CustomCrypto['kzg']>

  constructor(
    readonly schedule: ForkSchedule,
    private readonly customCrypto?: CustomCrypto,
    /** Reference mode: what is decoded with these Commons takes @ethereumjs's own decoder. */
    private readonly reference = false,
    /** Dev rules: the contract code size limit (EIP-170; initcode twice it), Anvil's `--code-size-limit`. */
    private readonly codeSizeLimit?: bigint,
    /** A proof-of-work block's base reward in wei on every fork (`ChainEngine.blockReward`). */
    private readonly blockReward?: bigint,
  ) {
    const active = new Set(
      schedule.forks.filter((f) => f.block !== undefined || f.timestamp !== undefined).map((f) => f.name),
    )
    const atZero = schedule.forks.every(
      (f) => (f.block === undefined || f.block === 0n) && (f.timestamp === undefined || f.timestamp === 0n),
    )
    this.single = atZero && schedule.mergeBlock === 0n ? [...active].pop() : undefined
    this.kzg = customCrypto?.kzg ?? lazyKzg()
  }

  /** The Commons of a chain that runs `common`'s ruleset from genesis (a store opened with one Common). */
  static of(common: Common): ChainCommons {
    const commons = new ChainCommons(singleForkSchedule(common.chainId(), common.hardfork()))
    commons.byFork.set(common.hardfork(), common)
    return commons
  }

  /** The fork a block with these header fields runs under. */
  forkOf(h: ForkKey): string {
    return this.single ?? forkAt(this.schedule, h.number, h.timestamp, h.difficulty === 0n)
  }

  /** The shared Common of the fork a block with these header fields runs under. */
  at(h: ForkKey): Common {
    return this.fork(this.forkOf(h))
  }

  /** The Common for a header given as its RLP fields (number, timestamp and difficulty read first). */
  forHeaderFields(values: Uint8Array[]): Common {
    if (this.single) return this.fork(this.single)
    const big = (b: Uint8Array | undefined) => (b && b.length > 0 ? bytesToBigInt(b) : 0n)
    return this.at({ number: big(values[8]), timestamp: big(values[11]), difficulty: big(values[7]) })
  }

  /** The shared Common of `fork` (made on first use). */
  fork(fork: string): Common {
    const known = this.byFork.get(fork)
    if (known) return known
    const common = shareable(this.create(fork), [
      ...(this.codeSizeLimit === undefined ? [] : [codeSizeParams(this.codeSizeLimit)]),
      ...(this.blockReward === undefined ? [] : [minerRewardParams(this.blockReward)]),
    ])
    if (this.reference) referenceCommons.add(common)
    this.byFork.set(fork, common)
    return common
  }

  private create(fork: string): Common {
    const s = this.schedule
    const hardforks = s.forks.map((f) => ({
      name: f.name,
      block: f.block === undefined ? null : Number(f.block),
      ...(f.timestamp !== undefined ? { timestamp: Number(f.timestamp) } : {}),
    }))
    // BPO forks carry their blob parameters in their own config, which wins over parameter tables.
    const customHardforks: Record<string, unknown> = {}
    const blobParams: ParamsDict = {}
    for (const [name, b] of Object.entries(s.blobSchedule)) {
      if (name.startsWith('bpo')) {
        customHardforks[name] = {
          eips: [],
          params: { target: b.target, max: b.max, blobGasPriceUpdateFraction: b.baseFeeUpdateFraction },
        }
      } else {
        blobParams[name] = {
          targetBlobGasPerBlock: b.target * BLOB_GAS_PER_BLOB,
          maxBlobGasPerBlock: b.max * BLOB_GAS_PER_BLOB,
          blobGasPriceUpdateFraction: b.baseFeeUpdateFraction,
        }
      }
    }
    const common = createCustomCommon(
      {
        name: 'cairn',
        chainId: Number(s.chainId),
        hardforks,
        defaultHardfork: fork,
        ...(Object.keys(customHardforks).length > 0 ? { customHardforks } : {}),
      } as Parameters<typeof createCustomCommon>[0],
      Mainnet,
      // KZG is always there: without it the 0x0a precompile throws out of the EVM (see crypto/kzg.ts).
      {
        hardfork: fork,
        customCrypto: { ...this.customCrypto, kzg: this.kzg },
        ...(Object.keys(blobParams).length > 0 ? { params: blobParams } : {}),
      },
    )
    return common
  }
}

const BLOB_GAS_PER_BLOB = 131072

const sharedCommons = new WeakSet<Common>()
const referenceCommons = new WeakSet<Common>()

/** Whether `common` belongs to a chain in reference mode (no decoding shortcut: `tx-decode.ts`). */
export function isReferenceCommon(common: Common): boolean {
  return referenceCommons.has(common)
}

/** Whether `common` is one of the chain's shared Commons (its `copy()` is itself; see {@link shareable}). */
export function isSharedCommon(common: Common): boolean {
  return sharedCommons.has(common)
}

/**
 * Makes one Common serve every transaction and header of its fork. @ethereumjs copies the Common
 * into each transaction and header and re-merges the parameter tables each time (JSON round
 * trips): measured, that was most of the node's CPU time. A shared Common's fork never changes,
 * so `copy()` returns the same instance and re-applying a known parameter table is a no-op; blocks
 * of another fork take that fork's shared Common ({@link ChainCommons}). Switching a shared
 * Common's fork (`setHardfork` to another, `setHardforkBy`) throws. Code that must own a Common (a
 * VM, whose EVM subscribes to it) takes {@link ownCopy}.
 */
function shareable(common: Common, overrides: ParamsDict[] = []): Common {
  sharedCommons.add(common)
  const applied = new WeakSet<ParamsDict>()
  const update = common.updateParams.bind(common)
  for (const p of [paramsTx, paramsBlock, paramsVM, paramsEVM]) {
    update(p)
    applied.add(p)
  }
  // After the tables, once: later attempts to apply a table are no-ops, so the overrides stay.
  for (const p of overrides) update(p)
  common.updateParams = (params: ParamsDict) => {
    if (applied.has(params)) return common
    applied.add(params)
    return update(params)
  }
  common.copy = () => common
  common.isActivatedEIP = isActivatedEIP
  const fork = common.hardfork()
  const refuse = (what: string) => {
    throw new CairnError(ChainErrorCode.SHARED_COMMON_SWITCHED, `${what} on the shared Common of ${fork}`, {
      fault: 'internal',
      hint: "take the fork's own shared Common (ChainCommons), or ownCopy()",
    })
  }
  // Own copies (ownCopy) inherit these properties: the guards apply to the shared instance only.
  common.setHardfork = function (this: Common, hardfork: string) {
    if (this === common && hardfork !== fork) refuse(`setHardfork(${hardfork})`)
    return Common.prototype.setHardfork.call(this, hardfork)
  }
  common.setHardforkBy = function (this: Common, opts: Parameters<Common['setHardforkBy']>[0]) {
    if (this === common) refuse('setHardforkBy')
    return Common.prototype.setHardforkBy.call(this, opts)
  }
  return common
}

/** Anvil's `--disable-code-size-limit`: a limit no contract reaches (and `Number()` keeps exact). */
export const UNLIMITED_CODE_SIZE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Parameters that set the contract code size limit to `limit` and the initcode limit to twice it,
 * in every EIP entry of @ethereumjs's tables that sets either (EIP-170 and EIP-3860, and Osaka's
 * EIP-7954 that raises both), so the limit holds whatever the fork: as Anvil's `--code-size-limit`.
 */
export function codeSizeParams(limit: bigint): ParamsDict {
  const init = limit >= UNLIMITED_CODE_SIZE / 2n ? UNLIMITED_CODE_SIZE : 2n * limit
  const out: ParamsDict = {}
  for (const table of [paramsEVM, paramsTx]) {
    for (const [eip, entry] of Object.entries(table)) {
      const set: Record<string, number> = { ...(out[eip] as Record<string, number> | undefined) }
      if ('maxCodeSize' in entry) set['maxCodeSize'] = Number(limit)
      if ('maxInitCodeSize' in entry) set['maxInitCodeSize'] = Number(init)
      if (Object.keys(set).length > 0) out[eip] = set
    }
  }
  return out
}

/** `minerReward` set to `wei` wherever @ethereumjs's tables set it (Frontier, Byzantium, Constantinople). */
export function minerRewardParams(wei: bigint): ParamsDict {
  const minerReward = wei.toString()
  return { 1: { minerReward }, 609: { minerReward }, 1013: { minerReward } }
}

/** A Common's active EIPs as a set, remembered with the list it was made from. */
interface EipSetCache {
  _activatedEIPsCache: number[]
  cairnEipList?: number[]
  cairnEipSet?: Set<number>
}

/**
 * `Common.isActivatedEIP` by set lookup: @ethereumjs scans the array of active EIPs (about 70 on
 * Prague) with `includes`, and the EVM asks several times per opcode (6.5% of an `eth_call`'s
 * CPU). Same answer: the set is rebuilt whenever @ethereumjs replaces the list (it rebuilds it,
 * never edits it, on a hardfork or EIP change). Copies of the Common (`ownCopy`) keep it.
 */
function isActivatedEIP(this: Common, eip: number): boolean {
  const self = this as unknown as EipSetCache
  const list = self._activatedEIPsCache
  if (self.cairnEipList !== list || self.cairnEipSet === undefined) {
    self.cairnEipSet = new Set(list)
    self.cairnEipList = list
  }
  return self.cairnEipSet.has(eip)
}

/** A Common of its own, with the shared one's settings (for a VM that lives briefly). */
export function ownCopy(common: Common): Common {
  return Common.prototype.copy.call(common)
}
