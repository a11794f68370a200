import { isDeepStrictEqual } from 'node:util'
import type { Hex } from '@cairn/utils'
import { predatesSystemContracts } from './system-contracts.ts'

/**
 * The deterministic deployment proxy (Nick Johnson's, deployed on most chains by a keyless
 * transaction): CREATE2 with the first 32 bytes of the call data as the salt and the rest as the
 * init code, answering the new address (20 bytes). `forge script` deploys through it when a
 * contract is created with a salt; Anvil and Hardhat predeploy it, so does the dev genesis (code
 * only, nonce 0 and no balance, as Anvil's `set_code`).
 */
export const CREATE2_DEPLOYER: { address: Hex; code: Hex } = {
  address: '0x4e59b44847b379578588920ca78fbf26c0b4956c',
  code: '0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3',
}

/** The genesis `alloc` entry that predeploys it. */
export function create2DeployerAlloc(): Record<Hex, { balance: string; code: Hex }> {
  return { [CREATE2_DEPLOYER.address]: { balance: '0x0', code: CREATE2_DEPLOYER.code } }
}

/**
 * Whether `stored` is `given` without dev predeploys that came later: the system contracts
 * ({@link predatesSystemContracts}) and/or the CREATE2 deployer. A datadir created by an earlier
 * Cairn's dev genesis keeps its stored genesis when opened with today's.
 */
export function predatesDevPredeploys(given: unknown, stored: unknown): boolean {
  if (predatesSystemContracts(given, stored)) return true
  const g = given as { alloc?: Record<string, unknown> } | null
  const st = stored as { alloc?: Record<string, unknown> } | null
  if (!g?.alloc || !st || typeof st !== 'object') return false
  const key = (a: string) => (a.startsWith('0x') ? a : `0x${a}`).toLowerCase()
  const isDeployer = (k: string) => key(k) === CREATE2_DEPLOYER.address
  if (!Object.keys(g.alloc).some(isDeployer) || Object.keys(st.alloc ?? {}).some(isDeployer)) return false
  const without = { ...g, alloc: Object.fromEntries(Object.entries(g.alloc).filter(([k]) => !isDeployer(k))) }
  return isDeepStrictEqual(without, { ...st, alloc: st.alloc ?? {} }) || predatesSystemContracts(without, stored)
}
