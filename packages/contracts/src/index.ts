// Solidity contracts Cairn ships, with their compiled artifacts (see README.md).

import arbExecutorJson from './artifacts/ArbExecutor.json' with { type: 'json' }
import governanceJson from './artifacts/Governance.json' with { type: 'json' }
import registry from './artifacts/ReservesRegistry.json' with { type: 'json' }
import stakingJson from './artifacts/Staking.json' with { type: 'json' }
import type { ContractArtifact } from './compile.ts'

export { governanceAbi } from './abi/governance.ts'
export { stakingAbi } from './abi/staking.ts'
export type { ContractArtifact } from './compile.ts'

/**
 * ReservesRegistry (src/ReservesRegistry.sol): the on-chain record of proof-of-liabilities
 * snapshots — root hash, hash function, currencies and root totals, timestamp and publisher per
 * snapshot id, never overwritten. Compiled with solc 0.8.30 for EVM `paris`.
 *
 * @example
 * import { reservesRegistry } from '@cairn/contracts'
 * const hash = await wallet.deployContract({ abi: reservesRegistry.abi, bytecode: reservesRegistry.bytecode })
 */
export const reservesRegistry: ContractArtifact = registry as ContractArtifact
export { ContractsErrorCode } from './errors.ts'

/**
 * ArbExecutor (src/ArbExecutor.sol): runs one arbitrage cycle through Uniswap V2-style pairs
 * atomically, owner-only, from its own balance or with a flash swap from the last pair; accepts
 * swap callbacks only from the pair it called; reverts unless its balance of the cycle's token
 * rises by at least the trade's minimum profit. Compiled with solc 0.8.30 for EVM `paris`.
 *
 * @example
 * import { arbExecutor } from '@cairn/contracts'
 * const hash = await wallet.deployContract({ abi: arbExecutor.abi, bytecode: arbExecutor.bytecode })
 */
export const arbExecutor: ContractArtifact = arbExecutorJson as ContractArtifact

/** Where genesis places the Staking system contract. */
export const STAKING_ADDRESS = '0x0000000000000000000000000000000000001000' as const
/** Where genesis places the Governance system contract. */
export const GOVERNANCE_ADDRESS = '0x0000000000000000000000000000000000001001' as const
/** The sender of the engine's system calls (initialize, reward, slashDoubleSign, epochUpdate). */
export const SYSTEM_ADDRESS = '0xfffffffffffffffffffffffffffffffffffffffe' as const

/**
 * Staking (src/Staking.sol): the proof-of-stake system contract at STAKING_ADDRESS — validators,
 * delegations of the native coin, unbonding and redelegation, rewards (commission, then an O(1)
 * per-share accumulator), double-sign and downtime slashing, jailing, and the active set the
 * engine reads at epoch boundaries. Placed in genesis (runtime code over 24 KB: not deployable by a
 * transaction), initialized once by SYSTEM_ADDRESS. See docs/consensus/staking.md.
 *
 * @example
 * import { STAKING_ADDRESS, staking } from '@cairn/contracts'
 * await wallet.writeContract({ address: STAKING_ADDRESS, abi: staking.abi, functionName: 'delegate', args: [operator], value })
 */
export const staking: ContractArtifact = stakingJson as ContractArtifact

/**
 * Governance (src/Governance.sol): the on-chain governance system contract at GOVERNANCE_ADDRESS —
 * proposals with a deposit, stake-weighted votes (Cosmos tally: delegators inherit their
 * validator's vote), quorum/threshold/veto, timelocked execution of staking and chain parameter
 * changes, community-pool spends and scheduled upgrades. See docs/consensus/governance.md.
 *
 * @example
 * import { GOVERNANCE_ADDRESS, governance } from '@cairn/contracts'
 * const plan = await client.readContract({ address: GOVERNANCE_ADDRESS, abi: governance.abi, functionName: 'upgradePlan' })
 */
export const governance: ContractArtifact = governanceJson as ContractArtifact
