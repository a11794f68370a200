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
