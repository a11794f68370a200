import type { TypedTransaction } from '@ethereumjs/tx'
import { createTx } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import type { RpcContext } from './context.ts'

/** Addresses eth_sendTransaction may send from without a key (dev mode), per node. */
const impersonated = new WeakMap<RpcContext, Set<string>>()

export function impersonatedSet(ctx: RpcContext): Set<string> {
  let set = impersonated.get(ctx)
  if (!set) {
    set = new Set()
    impersonated.set(ctx, set)
  }
  return set
}

/** Nodes where every address is impersonated (anvil_autoImpersonateAccount true). */
const autoImpersonating = new WeakSet<RpcContext>()

export function setAutoImpersonate(ctx: RpcContext, on: boolean): void {
  if (on) autoImpersonating.add(ctx)
  else autoImpersonating.delete(ctx)
}

export function isImpersonated(ctx: RpcContext, address: string): boolean {
  return autoImpersonating.has(ctx) || (impersonated.get(ctx)?.has(address.toLowerCase()) ?? false)
}

/**
 * An impersonated transaction: the filled, unsigned transaction with a placeholder signature
 * (r = the sender's address, s = 1, so that two senders never share a hash) whose sender the
 * chain records by hash. It executes as if `from` had signed it; it cannot be replayed by another
 * node, as with Anvil.
 */
export async function impersonatedTx(
  ctx: RpcContext,
  unsigned: TypedTransaction,
  from: string,
): Promise<TypedTransaction> {
  const json = unsigned.toJSON()
  const legacyV = 27n + (unsigned.supports(155) ? ctx.chain.chainId * 2n + 8n : 0n)
  const signed = createTx(
    { ...json, type: unsigned.type, v: unsigned.type === 0 ? legacyV : 0n, r: BigInt(from), s: 1n },
    { common: ctx.chain.common },
  )
  return ctx.chain.dev.registerSender(signed, new Address(Buffer.from(from.slice(2), 'hex')))
}

/** Signatures that stand for an address in raw transactions (anvil_impersonateSignature), per node: r ‖ s → address. */
const signatures = new WeakMap<RpcContext, Map<string, string>>()

/** The key of a signature: its r and s (the recovery bit aside, as Anvil matches them). */
function signatureKey(r: bigint, s: bigint): string {
  return `${r.toString(16)}:${s.toString(16)}`
}

/** anvil_impersonateSignature: a raw transaction carrying this signature is sent as `address`. */
export function impersonateSignature(ctx: RpcContext, r: bigint, s: bigint, address: string): void {
  let map = signatures.get(ctx)
  if (!map) {
    map = new Map()
    signatures.set(ctx, map)
  }
  map.set(signatureKey(r, s), address.toLowerCase())
}

/** The address a raw transaction's signature was registered for (dev mode), if any. */
export function impersonatedSigner(ctx: RpcContext, tx: TypedTransaction): string | undefined {
  const map = signatures.get(ctx)
  if (!map || tx.r === undefined || tx.s === undefined) return undefined
  return map.get(signatureKey(tx.r, tx.s))
}
