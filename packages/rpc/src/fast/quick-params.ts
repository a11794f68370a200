import type { BlockRef, CallRequest } from '../schemas.ts'
import { uint64Of } from '../schemas.ts'

// Params in the shapes nearly every read sends, checked and transformed without zod: a call
// object naming only `from`, `to`, `data`/`input` and `gas`, an address, a block tag or number.
// Zod's machinery (a payload and an issues array per value, a union tried option by option) cost
// more than the JSON parse of the body (in process, a distinct `eth_call`'s params ~1.2× the body's
// JSON.parse). Each function returns exactly what the method's zod schema returns for the params,
// or undefined when the params are in any other shape, valid or not: the schema then checks them
// (and words the errors). test/quick-params.test.ts holds them to the schemas.

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const DATA = /^0x([0-9a-fA-F]{2})*$/
const LOOSE_HEX = /^0x[0-9a-fA-F]{1,64}$/
const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/
const TAGS: ReadonlySet<unknown> = new Set(['latest', 'earliest', 'pending', 'safe', 'finalized'])

/** `blockRef` of a tag or a uint64 quantity; undefined for anything else (objects, errors). */
function quickBlockRef(v: unknown): BlockRef | undefined {
  if (typeof v !== 'string') return undefined
  if (TAGS.has(v)) return v as BlockRef
  // 66 characters: `blockRefOrHash` reads it as a block hash.
  if (v.length >= 66 || !QUANTITY.test(v)) return undefined
  return uint64Of(v)
}

/**
 * `eth_call`'s `[callRequest, blockRef?]` for a call object of `to`, `from`, `data`/`input` and
 * `gas` only (strings each), and a tag or number; undefined otherwise (the schema decides).
 */
export function quickCallParams(params: unknown[]): [CallRequest, BlockRef?] | undefined {
  if (params.length === 0 || params.length > 2) return undefined
  const raw = params[0]
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  let ref: BlockRef | undefined
  if (params.length === 2) {
    ref = quickBlockRef(params[1])
    if (ref === undefined) return undefined
  }
  // The output's keys in the schema's order (from, to, gas, data, input), as zod writes them.
  let from: string | undefined
  let to: string | undefined
  let gas: bigint | undefined
  let data: string | undefined
  let input: string | undefined
  for (const key in raw) {
    const v = (raw as Record<string, unknown>)[key]
    if (typeof v !== 'string') return undefined
    switch (key) {
      case 'from':
      case 'to':
        if (!ADDRESS.test(v)) return undefined
        if (key === 'from') from = v.toLowerCase()
        else to = v.toLowerCase()
        break
      case 'data':
      case 'input':
        if (!DATA.test(v)) return undefined
        if (key === 'data') data = v.toLowerCase()
        else input = v.toLowerCase()
        break
      case 'gas': {
        if (!LOOSE_HEX.test(v)) return undefined
        gas = uint64Of(v)
        if (gas === undefined) return undefined
        break
      }
      default:
        return undefined
    }
  }
  const req: CallRequest = {}
  if (from !== undefined) req.from = from as `0x${string}`
  if (to !== undefined) req.to = to as `0x${string}`
  if (gas !== undefined) req.gas = gas
  if (data !== undefined) req.data = data as `0x${string}`
  if (input !== undefined) req.input = input as `0x${string}`
  return params.length === 2 ? [req, ref] : [req]
}

/** `[address, blockRefOrHash?]` (eth_getBalance and kin) for an address and a tag or number; undefined otherwise. */
export function quickAccountParams(params: unknown[]): [`0x${string}`, BlockRef?] | undefined {
  if (params.length === 0 || params.length > 2) return undefined
  const a = params[0]
  if (typeof a !== 'string' || !ADDRESS.test(a)) return undefined
  const address = a.toLowerCase() as `0x${string}`
  if (params.length === 1) return [address]
  const ref = quickBlockRef(params[1])
  return ref === undefined ? undefined : [address, ref]
}
