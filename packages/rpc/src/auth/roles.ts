import { defineRoles, roleAllows as kitRoleAllows } from '@cairn/service-kit'

/** Roles, least to most trusted. */
export const ROLES = ['public', 'user', 'operator', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** The RPC's role table for service-kit's authenticator: ordered, a higher role may do what a lower may. */
export const RPC_ROLES = defineRoles<Role>(ROLES, { ordered: true })

/** True when `have` is at least `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return kitRoleAllows(RPC_ROLES, have, need)
}

/**
 * The least role per JSON-RPC method, as prefix rules checked in order (first match wins):
 * sending and signing need `user`, the txpool `operator`, admin/debug/testing/dev methods `admin`; the
 * reads of `eth_`, `net_` and `web3_` are `public`. Anything else needs `admin` (fail closed): a
 * namespace added later is never public by accident. `personal_sign` signs with a node-held key exactly as
 * `eth_sign` does, so both need `user`; `personal_ecRecover` uses no key (`public`); the rest of
 * geth's `personal_` namespace manages keys (new, import, unlock) and needs `admin`.
 */
export const METHOD_ROLES: readonly (readonly [prefix: string, role: Role])[] = [
  ['eth_sendUnsigned', 'admin'],
  ['eth_send', 'user'],
  ['eth_sign', 'user'],
  ['personal_sign', 'user'],
  ['personal_ecRecover', 'public'],
  ['personal_', 'admin'],
  ['txpool_', 'operator'],
  ['admin_', 'admin'],
  ['debug_', 'admin'],
  // Parity traces and Otterscan's namespace replay transactions, as debug_trace*.
  ['trace_', 'admin'],
  ['ots_', 'admin'],
  ['testing_', 'admin'],
  ['evm_', 'admin'],
  ['anvil_', 'admin'],
  ['hardhat_', 'admin'],
  ['miner_', 'admin'],
  ['eth_', 'public'],
  // The BFT engine's reads (certificates, validator sets, evidence): public chain data.
  ['cairn_getCommit', 'public'],
  ['cairn_getValidators', 'public'],
  ['cairn_getEvidence', 'public'],
  ['net_', 'public'],
  ['web3_', 'public'],
]

/** Roles found, by method name (asked for every request; names are few, but callers send any: bounded). */
const roleOf = new Map<string, Role>()
const MAX_REMEMBERED_ROLES = 1024

/** The least role that may call `method`. */
export function requiredRole(method: string): Role {
  const known = roleOf.get(method)
  if (known !== undefined) return known
  let found: Role = 'admin'
  for (const [prefix, role] of METHOD_ROLES) {
    if (method.startsWith(prefix)) {
      found = role
      break
    }
  }
  if (roleOf.size >= MAX_REMEMBERED_ROLES) roleOf.clear()
  roleOf.set(method, found)
  return found
}
