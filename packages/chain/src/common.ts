import { lazyKzg } from '@cairn/crypto'
import { paramsBlock } from '@ethereumjs/block'
import { Common, type CustomCrypto, createCustomCommon, Hardfork, Mainnet, type ParamsDict } from '@ethereumjs/common'
import { paramsEVM } from '@ethereumjs/evm'
import { paramsTx } from '@ethereumjs/tx'
import { paramsVM } from '@ethereumjs/vm'

/** The rulesets Cairn executes. Cancun at least; Prague by default. */
export const SUPPORTED_HARDFORKS = ['cancun', 'prague', 'osaka'] as const
export type SupportedHardfork = (typeof SUPPORTED_HARDFORKS)[number]
export const DEFAULT_HARDFORK: SupportedHardfork = 'prague'

export interface ChainCommonOptions {
  chainId: bigint
  hardfork: SupportedHardfork
  /** Native secp256k1 and fast keccak from `@cairn/crypto`. */
  customCrypto?: CustomCrypto
}

/**
 * A `Common` for a Cairn chain: every hardfork up to the chosen one is active from block 0, so the
 * chain runs one ruleset from genesis (as geth's dev mode does) and never switches mid-chain.
 */
export function createChainCommon(opts: ChainCommonOptions): Common {
  const order = Mainnet.hardforks.map((h) => h.name)
  const last = order.indexOf(opts.hardfork)
  const hardforks = Mainnet.hardforks.map((h, i) => ({
    name: h.name,
    block: i <= last && h.name !== Hardfork.MergeNetsplitBlock ? 0 : null,
    ...(i <= last && h.timestamp !== undefined ? { timestamp: 0 } : {}),
  }))
  const common = createCustomCommon(
    { name: 'cairn', chainId: Number(opts.chainId), hardforks, defaultHardfork: opts.hardfork },
    Mainnet,
    // KZG is always there: without it the 0x0a precompile throws out of the EVM (see crypto/kzg.ts).
    { hardfork: opts.hardfork, customCrypto: { ...opts.customCrypto, kzg: opts.customCrypto?.kzg ?? lazyKzg() } },
  )
  return shareable(common)
}

/**
 * Makes one Common serve every transaction and header of the chain. @ethereumjs copies the Common
 * into each transaction and header and re-merges the parameter tables each time (JSON round
 * trips): measured, that was most of the node's CPU time. The chain runs one hardfork from
 * genesis and never changes it, so the Common is shared: `copy()` returns the same instance and
 * re-applying a known parameter table is a no-op. Code that must own a Common (a VM, whose EVM
 * subscribes to it) takes {@link ownCopy}.
 */
function shareable(common: Common): Common {
  const applied = new WeakSet<ParamsDict>()
  const update = common.updateParams.bind(common)
  for (const p of [paramsTx, paramsBlock, paramsVM, paramsEVM]) {
    update(p)
    applied.add(p)
  }
  common.updateParams = (params: ParamsDict) => {
    if (applied.has(params)) return common
    applied.add(params)
    return update(params)
  }
  common.copy = () => common
  common.isActivatedEIP = isActivatedEIP
  return common
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
