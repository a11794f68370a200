import { HASH_NAMES, type HashName } from './hash.ts'
import { fromHex } from './hex.ts'
import { parseAmount } from './u128.ts'

/** One currency of a snapshot, in the order its balances are encoded. */
export interface Currency {
  symbol: string
  decimals: number
}

/** A node of a proof: its hash and its per-currency sums (decimal strings, currency order). */
export interface ProofNode {
  hash: string
  balances: string[]
}

/** Proof format version 1 (docs/reserves/proof-format.md). */
export interface ProofV1 {
  version: 1
  hash: HashName
  snapshotId: string
  currencies: Currency[]
  userId: string
  /** 0x-hex, 32 bytes. */
  salt: string
  /** Amounts in the smallest unit, keyed by currency symbol. */
  balances: Record<string, string>
  leafIndex: number
  /** Siblings from the leaf's level up to the root's children. */
  path: ProofNode[]
  root: ProofNode
}

/** Largest tree depth a v1 proof may have (leaf indexes stay exact JS integers). */
export const MAX_DEPTH = 48
/** Most currencies a snapshot may have. */
export const MAX_CURRENCIES = 64
/** Longest user id, in UTF-8 bytes. */
export const MAX_USER_ID_BYTES = 256

const SYMBOL = /^[A-Za-z0-9._-]{1,16}$/

/** The outcome of parsing untrusted JSON as a proof. */
export type ParseResult = { ok: true; proof: ProofV1 } | { ok: false; reason: string }

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkNode(v: unknown, width: number, what: string): string | null {
  if (!isObject(v)) return `${what} is not an object`
  if (fromHex(v.hash as string, 32) === null) return `${what}.hash is not 32 bytes of 0x-hex`
  if (!Array.isArray(v.balances) || v.balances.length !== width)
    return `${what}.balances must list ${width} amount(s), one per currency`
  for (const [i, a] of v.balances.entries()) {
    if (typeof a !== 'string' || parseAmount(a) === null)
      return `${what}.balances[${i}] is not a decimal integer in [0, 2^128)`
  }
  return null
}

/**
 * Checks that untrusted JSON has the exact shape of a v1 proof: field types, hash name, 32-byte
 * hashes, canonical u128 amounts, one amount per currency, a path no deeper than {@link MAX_DEPTH}
 * and a leaf index inside it. It does not check any hash: that is {@link verifyProof}'s job.
 */
export function parseProof(json: unknown): ParseResult {
  const fail = (reason: string): ParseResult => ({ ok: false, reason })
  if (!isObject(json)) return fail('a proof is a JSON object')
  if (json.version !== 1)
    return fail(`unsupported proof version ${JSON.stringify(json.version)} (this verifier reads 1)`)
  if (!HASH_NAMES.includes(json.hash as HashName)) return fail(`hash must be one of ${HASH_NAMES.join(', ')}`)
  if (typeof json.snapshotId !== 'string' || json.snapshotId.length === 0 || json.snapshotId.length > 128)
    return fail('snapshotId must be a non-empty string')
  const cur = json.currencies
  if (!Array.isArray(cur) || cur.length === 0 || cur.length > MAX_CURRENCIES)
    return fail(`currencies must list 1 to ${MAX_CURRENCIES} currencies`)
  const symbols = new Set<string>()
  for (const [i, c] of cur.entries()) {
    if (!isObject(c) || typeof c.symbol !== 'string' || !SYMBOL.test(c.symbol))
      return fail(`currencies[${i}].symbol must match ${SYMBOL}`)
    if (typeof c.decimals !== 'number' || !Number.isInteger(c.decimals) || c.decimals < 0 || c.decimals > 38)
      return fail(`currencies[${i}].decimals must be an integer in [0, 38]`)
    if (symbols.has(c.symbol)) return fail(`currency ${c.symbol} is listed twice`)
    symbols.add(c.symbol)
  }
  if (typeof json.userId !== 'string' || json.userId.length === 0) return fail('userId must be a non-empty string')
  if (new TextEncoder().encode(json.userId).length > MAX_USER_ID_BYTES)
    return fail(`userId is longer than ${MAX_USER_ID_BYTES} bytes`)
  if (fromHex(json.salt as string, 32) === null) return fail('salt is not 32 bytes of 0x-hex')
  const bal = json.balances
  if (!isObject(bal)) return fail('balances must be an object keyed by currency symbol')
  for (const k of Object.keys(bal)) if (!symbols.has(k)) return fail(`balances has unknown currency ${k}`)
  for (const s of symbols) {
    const a = bal[s]
    if (typeof a !== 'string' || parseAmount(a) === null)
      return fail(`balances.${s} must be a decimal integer string in [0, 2^128)`)
  }
  if (!Array.isArray(json.path) || json.path.length > MAX_DEPTH)
    return fail(`path must have at most ${MAX_DEPTH} nodes`)
  const depth = json.path.length
  if (typeof json.leafIndex !== 'number' || !Number.isSafeInteger(json.leafIndex) || json.leafIndex < 0)
    return fail('leafIndex must be a non-negative integer')
  if (json.leafIndex >= 2 ** depth) return fail(`leafIndex ${json.leafIndex} does not fit a tree of depth ${depth}`)
  for (const [i, n] of json.path.entries()) {
    const bad = checkNode(n, cur.length, `path[${i}]`)
    if (bad) return fail(bad)
  }
  const badRoot = checkNode(json.root, cur.length, 'root')
  if (badRoot) return fail(badRoot)
  return { ok: true, proof: json as unknown as ProofV1 }
}
