import { forkHash } from '@cairn/chain'
import { toQuantity } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { type MethodDef, method } from '../method.ts'

/** EIP-7910's names of the precompiles, by address, and the fork that brought each. */
const PRECOMPILES: [name: string, address: number, since: string][] = [
  ['ECREC', 0x1, 'chainstart'],
  ['SHA256', 0x2, 'chainstart'],
  ['RIPEMD160', 0x3, 'chainstart'],
  ['ID', 0x4, 'chainstart'],
  ['MODEXP', 0x5, 'byzantium'],
  ['BN254_ADD', 0x6, 'byzantium'],
  ['BN254_MUL', 0x7, 'byzantium'],
  ['BN254_PAIRING', 0x8, 'byzantium'],
  ['BLAKE2F', 0x9, 'istanbul'],
  ['KZG_POINT_EVALUATION', 0xa, 'cancun'],
  ['BLS12_G1ADD', 0xb, 'prague'],
  ['BLS12_G1MSM', 0xc, 'prague'],
  ['BLS12_G2ADD', 0xd, 'prague'],
  ['BLS12_G2MSM', 0xe, 'prague'],
  ['BLS12_PAIRING_CHECK', 0xf, 'prague'],
  ['BLS12_MAP_FP_TO_G1', 0x10, 'prague'],
  ['BLS12_MAP_FP2_TO_G2', 0x11, 'prague'],
  ['P256VERIFY', 0x100, 'osaka'],
]

/** EIP-7910's system contracts and the fork that brought each. */
const SYSTEM_CONTRACTS: [name: string, address: string, since: string][] = [
  ['BEACON_ROOTS_ADDRESS', '0x000f3df6d732807ef1319fb7b8bb8522d0beac02', 'cancun'],
  ['CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS', '0x0000bbddc7ce488642fb579f8b00f3a590007251', 'prague'],
  // Cairn's chains have no beacon-chain deposit contract: the zero address, as geth's dev chains.
  ['DEPOSIT_CONTRACT_ADDRESS', '0x0000000000000000000000000000000000000000', 'prague'],
  ['HISTORY_STORAGE_ADDRESS', '0x0000f90827f1c53a10cb7a02335b175320002935', 'prague'],
  ['WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS', '0x00000961ef480eb55e80d19ad83579a64c007002', 'prague'],
]

interface Fork {
  name: string
  /** Activation block (block-number forks) or timestamp (timestamp forks). */
  at: bigint
  byTime: boolean
}

/** The chain's scheduled forks, in order, as @ethereumjs/common holds them (the merge itself is not a fork id step). */
function forksOf(common: Common): Fork[] {
  const out: Fork[] = []
  for (const h of common.hardforks()) {
    if (h.name === 'paris' || h.name === 'chainstart') continue
    if (h.timestamp !== undefined && h.timestamp !== null) {
      out.push({ name: h.name, at: BigInt(h.timestamp), byTime: true })
    } else if (h.block !== null && h.block !== undefined) {
      out.push({ name: h.name, at: BigInt(h.block), byTime: false })
    }
  }
  return out
}

function gte(common: Common, hardfork: string, since: string): boolean {
  return common.hardforkGteHardfork(hardfork, since)
}

/**
 * A fork's blob target, max and base-fee update fraction, from that fork's own Common: a BPO fork
 * carries them in its own config (`target`/`max`), which @ethereumjs's `getBlobGasSchedule` reads,
 * not in the parameter tables (those still hold Osaka's). Null before Cancun.
 */
function blobSchedule(ctx: RpcContext, hardfork: string) {
  if (!gte(ctx.chain.common, hardfork, 'cancun')) return null
  const common = ctx.chain.commons.fork(hardfork)
  const s = common.getBlobGasSchedule()
  const per = common.param('blobGasPerBlob')
  return {
    target: Number(s.targetBlobGasPerBlock / per),
    max: Number(s.maxBlobGasPerBlock / per),
    baseFeeUpdateFraction: Number(s.blobGasPriceUpdateFraction),
  }
}

/** One fork's EIP-7910 configuration object. */
function forkConfig(ctx: RpcContext, forks: Fork[], fork: Fork) {
  const { common } = ctx.chain
  const genesis = ctx.chain.genesisBlock.header
  // The fork id at this fork: every block-number fork after genesis, and the timestamp forks after
  // genesis time up to this one.
  const activations = forks
    .filter((f) => (f.byTime ? f.at > genesis.timestamp && f.at <= fork.at : f.at > 0n))
    .map((f) => f.at)
  const precompiles: Record<string, string> = {}
  for (const [name, address, since] of PRECOMPILES) {
    if (gte(common, fork.name, since)) precompiles[name] = `0x${address.toString(16).padStart(40, '0')}`
  }
  const systemContracts: Record<string, string> = {}
  for (const [name, address, since] of SYSTEM_CONTRACTS) {
    if (gte(common, fork.name, since)) systemContracts[name] = address
  }
  return {
    activationTime: Number(fork.at),
    blobSchedule: blobSchedule(ctx, fork.name),
    chainId: toQuantity(ctx.chain.chainId),
    forkId: forkHash(ctx.chain.genesisBlock.hash(), activations),
    precompiles,
    systemContracts,
  }
}

/** eth_config (EIP-7910): the fork the head runs, the next scheduled one, and the last one. */
export const ethConfigMethods: MethodDef[] = [
  method({
    name: 'eth_config',
    params: z.tuple([]),
    handler(_p, ctx) {
      const forks = forksOf(ctx.chain.common)
      const timed = forks.filter((f) => f.byTime)
      const now = ctx.chain.head.header.timestamp
      const active = timed.filter((f) => f.at <= now)
      // Every timestamp fork at the same time is one step: the latest of them is the current ruleset.
      const current = active[active.length - 1] ?? { name: ctx.chain.common.hardfork(), at: 0n, byTime: true }
      const upcoming = timed.filter((f) => f.at > now)
      const next = upcoming[0]
      const last = upcoming[upcoming.length - 1]
      return {
        current: forkConfig(ctx, forks, current),
        next: next ? forkConfig(ctx, forks, next) : null,
        last: last ? forkConfig(ctx, forks, last) : null,
      }
    },
  }),
]
