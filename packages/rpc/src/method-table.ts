// The attributes the server asks of a method name on every request — its role, its weight, whether
// a read thread serves it, whether it runs in the request context — derived once from the
// declarations in ALL_METHODS (method.ts documents each). A new method declares them in its own
// file; names no method declares get their namespace's defaults here (fail closed: `admin`).
import { ALL_METHODS } from './all-methods.ts'
import type { Role } from './auth/roles.ts'
import type { MethodDef } from './method.ts'

/** The role of a method that declares none, by namespace; any other namespace needs `admin`. */
const NAMESPACE_ROLES: Readonly<Record<string, Role>> = {
  eth: 'public',
  net: 'public',
  web3: 'public',
  txpool: 'operator',
}

/**
 * Names that declare no role and look like a declared method's family keep that family's role
 * (first match wins): a sending or signing method added without a role is never public by
 * accident. geth's `personal_` namespace otherwise manages keys (admin); `personal_ecRecover` uses no key.
 */
const LOOK_ALIKE_ROLES: readonly (readonly [prefix: string, role: Role])[] = [
  ['eth_sendUnsigned', 'admin'],
  ['eth_send', 'user'],
  ['eth_sign', 'user'],
  ['personal_sign', 'user'],
  ['personal_ecRecover', 'public'],
  ['cairn_getCommit', 'public'],
  ['cairn_getValidators', 'public'],
  ['cairn_getEvidence', 'public'],
]

/** The weight of a method that declares none, by namespace (replays, raw blocks, block building); else 1. */
const NAMESPACE_WEIGHTS: Readonly<Record<string, number>> = { debug: 20, trace: 20, ots: 20, testing: 20 }

/** A method name's namespace when it has one (`eth_` → `eth`; `eth` alone has none). */
function namespace(name: string): string | undefined {
  const cut = name.indexOf('_')
  return cut < 0 ? undefined : name.slice(0, cut)
}

/** The role of a name that declares none. */
export function defaultRole(name: string): Role {
  for (const [prefix, role] of LOOK_ALIKE_ROLES) if (name.startsWith(prefix)) return role
  const ns = namespace(name)
  return (ns !== undefined && Object.hasOwn(NAMESPACE_ROLES, ns) ? NAMESPACE_ROLES[ns] : undefined) ?? 'admin'
}

/** The weight of a name that declares none. */
export function defaultWeight(name: string): number {
  const ns = namespace(name)
  return (ns !== undefined && Object.hasOwn(NAMESPACE_WEIGHTS, ns) ? NAMESPACE_WEIGHTS[ns] : undefined) ?? 1
}

/** The derived tables: one Map lookup per question. */
export interface MethodTable {
  role: ReadonlyMap<string, Role>
  weight: ReadonlyMap<string, number>
  /** Every method a read thread answers (`'answer'` or `'forward'`). */
  readThread: ReadonlySet<string>
  /** Those of {@link readThread} worth forwarding from the main thread (`'forward'`). */
  readThreadForward: ReadonlySet<string>
  /** Runs without the request context: public, or declared `contextFree`. */
  contextFree: ReadonlySet<string>
}

/** Derives the tables from declarations (exported for tests; the server uses {@link methodTable}). */
export function deriveMethodTable(methods: readonly MethodDef[]): MethodTable {
  const role = new Map<string, Role>()
  const weight = new Map<string, number>()
  const readThread = new Set<string>()
  const readThreadForward = new Set<string>()
  const contextFree = new Set<string>()
  for (const m of methods) {
    const r = m.role ?? defaultRole(m.name)
    role.set(m.name, r)
    weight.set(m.name, m.weight ?? defaultWeight(m.name))
    if (m.readThread !== undefined) readThread.add(m.name)
    if (m.readThread === 'forward') readThreadForward.add(m.name)
    if (r === 'public' || m.contextFree) contextFree.add(m.name)
  }
  return { role, weight, readThread, readThreadForward, contextFree }
}

// Built on first use rather than at load: the method files' imports reach this module (through the
// dispatcher and the auth gate) while ALL_METHODS is still being evaluated.
let table: MethodTable | undefined

/** The tables of ALL_METHODS, built once. */
export function methodTable(): MethodTable {
  table ??= deriveMethodTable(ALL_METHODS)
  return table
}

/** The least role that may call `method` (asked for every request). */
export function requiredRole(method: string): Role {
  return methodTable().role.get(method) ?? defaultRole(method)
}

/** Cost of one call of `method` against a rate limit (see {@link MethodDef.weight}). */
export function methodWeight(method: string): number {
  return methodTable().weight.get(method) ?? defaultWeight(method)
}

/** Whether `method` runs without the request context (server.ts `dispatchInContext`). */
export function runsWithoutContext(method: string): boolean {
  const t = methodTable()
  return t.contextFree.has(method) || (!t.role.has(method) && defaultRole(method) === 'public')
}

/** The methods a read thread answers by itself (read-threads.ts). */
export function readThreadMethods(): ReadonlySet<string> {
  return methodTable().readThread
}

/** The read-thread methods worth forwarding from the main thread (read-threads.ts). */
export function readThreadWorthForwarding(): ReadonlySet<string> {
  return methodTable().readThreadForward
}
