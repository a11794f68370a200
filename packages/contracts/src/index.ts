// Solidity contracts Cairn ships, with their compiled artifacts (see README.md).

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
