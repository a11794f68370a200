/**
 * A proof-of-work chain's genesis in geth's format: every block-number fork up to Gray Glacier
 * (London's rules, EIP-1559 included) at block 0 and no merge, so the chain runs a proof-of-work
 * ruleset (execution does not read `mixHash` or `nonce`, where the seal goes); the genesis
 * `difficulty` is the work of the genesis target; `config.cairn.pow` holds the chain parameters
 * (docs/consensus/pow.md). What `cairn devnet init --engine pow` writes.
 */
import { bytesToHex } from '@cairn/utils'
import { targetFromBits } from './compact-bits.ts'
import { type PowChainParams, powConfigJson } from './params.ts'
import { workOf } from './work.ts'

/** geth's block-number forks, all at 0: a proof-of-work chain on London's rules (Gray Glacier). */
const POW_FORKS = [
  'homesteadBlock',
  'eip150Block',
  'eip155Block',
  'eip158Block',
  'byzantiumBlock',
  'constantinopleBlock',
  'petersburgBlock',
  'istanbulBlock',
  'muirGlacierBlock',
  'berlinBlock',
  'londonBlock',
  'arrowGlacierBlock',
  'grayGlacierBlock',
] as const

export interface PowGenesisOptions {
  chainId: number
  params: PowChainParams
  /** Funded accounts: address → balance in wei. */
  alloc?: Record<string, bigint>
  /** The genesis timestamp, seconds. */
  timestamp: number
  gasLimit?: bigint
}

/** The genesis of a proof-of-work chain (a JSON-ready object). */
export function powGenesis(opts: PowGenesisOptions): Record<string, unknown> {
  const config: Record<string, unknown> = { chainId: opts.chainId }
  for (const fork of POW_FORKS) config[fork] = 0
  config.cairn = { pow: powConfigJson(opts.params) }
  const alloc: Record<string, { balance: string }> = {}
  for (const [address, balance] of Object.entries(opts.alloc ?? {}))
    alloc[address] = { balance: `0x${balance.toString(16)}` }
  return {
    config,
    alloc,
    gasLimit: `0x${(opts.gasLimit ?? 30_000_000n).toString(16)}`,
    timestamp: `0x${opts.timestamp.toString(16)}`,
    difficulty: `0x${workOf(targetFromBits(opts.params.genesisBits)).toString(16)}`,
    extraData: bytesToHex(new TextEncoder().encode('cairn pow genesis')),
    nonce: '0x0',
    mixHash: `0x${'00'.repeat(32)}`,
    baseFeePerGas: '0x3b9aca00',
  }
}
