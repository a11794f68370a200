/**
 * A service's roles. `ordered` tables list them least to most trusted and a higher role may do
 * whatever a lower one may (the RPC: public < user < operator < admin); unordered tables name
 * separate duties and each route lists the roles it admits (reserves: admin, auditor, user).
 */
export interface RoleTable<R extends string> {
  readonly roles: readonly R[]
  readonly ordered: boolean
}

/** A role table (`as const` arrays keep the role names as a union). */
export function defineRoles<R extends string>(roles: readonly R[], opts: { ordered: boolean }): RoleTable<R> {
  return { roles, ordered: opts.ordered }
}

/** Whether `value` names a role of the table. */
export function isRole<R extends string>(table: RoleTable<R>, value: unknown): value is R {
  return typeof value === 'string' && (table.roles as readonly string[]).includes(value)
}

/**
 * Whether a caller with `have` may do what needs `need`: one of the listed roles, or (ordered
 * tables) a role at least as trusted as a single `need`.
 */
export function roleAllows<R extends string>(table: RoleTable<R>, have: R, need: R | readonly R[]): boolean {
  if (typeof need !== 'string') return need.includes(have)
  if (!table.ordered) return have === need
  return table.roles.indexOf(have) >= table.roles.indexOf(need)
}

/** The most trusted of `roles` (ordered tables), or the first (unordered); undefined when empty. */
export function highestRole<R extends string>(table: RoleTable<R>, roles: readonly R[]): R | undefined {
  if (!table.ordered) return roles[0]
  let best: R | undefined
  for (const r of roles) if (best === undefined || table.roles.indexOf(r) > table.roles.indexOf(best)) best = r
  return best
}
