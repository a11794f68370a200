// Solidity contracts Cairn ships, with their compiled artifacts (see README.md).

import arbExecutorJson from './artifacts/ArbExecutor.json' with { type: 'json' }
import registry from './artifacts/ReservesRegistry.json' with { type: 'json' }
import type { ContractArtifact } from './compile.ts'

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
 * atomically, owner-only, from its own balance or with a flash swap from the first pair; accepts
 * swap callbacks only from the pair it called; reverts unless its balance of the cycle's token
 * rises by at least the trade's minimum profit. Compiled with solc 0.8.30 for EVM `paris`.
 *
 * @example
 * import { arbExecutor } from '@cairn/contracts'
 * const hash = await wallet.deployContract({ abi: arbExecutor.abi, bytecode: arbExecutor.bytecode })
 */
export const arbExecutor: ContractArtifact = arbExecutorJson as ContractArtifact
