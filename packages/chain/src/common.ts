import { type Common, type CustomCrypto, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'

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
  return createCustomCommon(
    { name: 'cairn', chainId: Number(opts.chainId), hardforks, defaultHardfork: opts.hardfork },
    Mainnet,
    { hardfork: opts.hardfork, ...(opts.customCrypto ? { customCrypto: opts.customCrypto } : {}) },
  )
}
