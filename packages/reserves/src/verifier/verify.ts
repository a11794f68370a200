import { leafHash, nodeHash, userHash } from './encoding.ts'
import type { HashFn } from './hash.ts'
import { portableHash } from './hash.ts'
import { fromHex, sameBytes, toHex } from './hex.ts'
import { type ProofV1, parseProof } from './proof.ts'
import { addBalancesInto, decodeBalances, encodeBalances, parseAmount } from './u128.ts'

/** One level of the folded path, for drawing it: the running node and its sibling. */
export interface VerifyStep {
  level: number
  /** Whether the running node was the left child at this level. */
  side: 'left' | 'right'
  node: { hash: string; balances: string[] }
  sibling: { hash: string; balances: string[] }
}

/** The outcome of verifying a proof. `ok` is true only when every check passed. */
export interface VerifyResult {
  ok: boolean
  /** Why verification failed (absent when ok). */
  reason?: string
  /** The leaf hash recomputed from the salt, the user id and the balances. */
  leafHash?: string
  /** The root hash recomputed by folding the path. */
  computedRoot?: string
  steps: VerifyStep[]
}

export interface VerifyOptions {
  /** A faster implementation of the proof's hash (defaults to the pure-JS one). */
  hash?: HashFn
  /** A root hash published elsewhere (an anchor, the custodian's site) that the proof must match. */
  expectedRoot?: string
}

/**
 * Verifies an inclusion proof (any JSON value): recomputes the user's leaf from salt, id and
 * balances, folds the sibling path bottom-up (bit i of `leafIndex` = 0: the running node is the
 * left child at level i), refuses any sum ≥ 2^128, and compares the root hash and every root total.
 * Runs in any JavaScript runtime; it never throws on bad input.
 *
 * @example
 * const r = verifyProof(JSON.parse(text), { expectedRoot: '0x…' })
 * if (!r.ok) console.log(r.reason)
 */
export function verifyProof(json: unknown, opts: VerifyOptions = {}): VerifyResult {
  const parsed = parseProof(json)
  if (!parsed.ok) return { ok: false, reason: parsed.reason, steps: [] }
  return verifyParsed(parsed.proof, opts)
}

function verifyParsed(p: ProofV1, opts: VerifyOptions): VerifyResult {
  const h = opts.hash ?? portableHash(p.hash)
  const steps: VerifyStep[] = []
  const amounts = p.currencies.map((c) => parseAmount(p.balances[c.symbol] as string) as bigint)
  const uh = userHash(h, fromHex(p.salt, 32) as Uint8Array, p.userId)
  let runBal = encodeBalances(amounts)
  let runHash = leafHash(h, uh, runBal)
  const leaf = toHex(runHash)
  for (const [level, sib] of p.path.entries()) {
    const sibHash = fromHex(sib.hash, 32) as Uint8Array
    const sibBal = encodeBalances(sib.balances.map((a) => parseAmount(a) as bigint))
    const left = Math.floor(p.leafIndex / 2 ** level) % 2 === 0
    steps.push({
      level,
      side: left ? 'left' : 'right',
      node: { hash: toHex(runHash), balances: decodeBalances(runBal).map(String) },
      sibling: { hash: sib.hash.toLowerCase(), balances: sib.balances },
    })
    const sum = new Uint8Array(runBal.length)
    if (!addBalancesInto(runBal, sibBal, sum))
      return { ok: false, reason: `a sum at level ${level + 1} reaches 2^128`, leafHash: leaf, steps }
    runHash = left ? nodeHash(h, runHash, runBal, sibHash, sibBal) : nodeHash(h, sibHash, sibBal, runHash, runBal)
    runBal = sum
  }
  const computedRoot = toHex(runHash)
  const base = { leafHash: leaf, computedRoot, steps }
  if (!sameBytes(runHash, fromHex(p.root.hash, 32) as Uint8Array))
    return { ok: false, reason: `the path folds to ${computedRoot}, not the root ${p.root.hash}`, ...base }
  const totals = decodeBalances(runBal)
  for (const [i, c] of p.currencies.entries()) {
    if (totals[i] !== parseAmount(p.root.balances[i] as string))
      return { ok: false, reason: `the ${c.symbol} total folds to ${totals[i]}, not ${p.root.balances[i]}`, ...base }
  }
  if (opts.expectedRoot !== undefined) {
    const want = fromHex(opts.expectedRoot, 32)
    if (want === null || !sameBytes(want, runHash))
      return { ok: false, reason: `the root ${computedRoot} is not the expected ${opts.expectedRoot}`, ...base }
  }
  return { ok: true, ...base }
}
