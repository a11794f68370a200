// The auditor report of one built snapshot: totals per currency, root, leaf count, anchor, the
// latest completed reconciliation (reserve ratio per currency), the audit chain's state, and N
// sampled proofs — drawn from a recorded seed, each verified with the verifier against the root.
// Sampled proofs are shown as keyed ref, leaf index, leaf hash and outcome: no user id, no
// balance (an auditor checks a leaf hash against GET /v1/snapshots/:id/leaves, which names no one).
// The service signs the report's canonical JSON with its Ed25519 report key; anyone holding the
// public key checks it (verifyReport, `cairn reserves report verify`).
import { randomBytes, sign, verify } from 'node:crypto'
import { ReservesErrorCode, randomBelow, seededRandom } from '@cairn/reserves'
import { verifyProof } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import type { AtRestKey } from '../../kernel/at-rest.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { verifyAuditWithCheckpoint } from './audit-checkpoint.ts'
import type { ReportKey } from './options.ts'
import { keyIdOf, publicKeyFromHex } from './report-key.ts'
import { userRef } from './tombstones.ts'

export const REPORT_KIND = 'cairn-reserves-report'
/** Prefixed to the canonical JSON before signing (a report signature is never valid for anything else). */
export const REPORT_DOMAIN = 'cairn-reserves-report-v1\n'
export const MAX_SAMPLES = 100

export interface SampledProof {
  ref: string
  leafIndex: number
  leafHash: string | null
  ok: boolean
  reason?: string
}

export interface ReportSignature {
  alg: 'Ed25519'
  keyId: string
  /** Raw 32-byte public key, hex. */
  publicKey: string
  /** Base64 signature over REPORT_DOMAIN ‖ canonical JSON of the report without `signature`. */
  value: string
}

export interface SnapshotReport {
  kind: typeof REPORT_KIND
  version: 1
  generatedAt: string
  snapshot: {
    id: string
    hash: string
    root: string
    depth: number
    userCount: number
    leafCount: number
    createdAt: string
    builtAt: string | null
  }
  totals: { symbol: string; decimals: number; amount: string }[]
  anchor: Record<string, unknown> | null
  reconciliation: Record<string, unknown> | null
  samples: {
    seed: string
    requested: number
    drawn: number
    verified: number
    failed: number
    proofs: SampledProof[]
  }
  auditChain: { ok: boolean; count?: number; head?: string; prunedThrough?: number; reason?: string }
  signature: ReportSignature | null
}

/** JSON with object keys sorted at every level, no whitespace: the bytes a signature covers. */
export function canonicalJson(v: unknown): string {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk)
    if (x && typeof x === 'object')
      return Object.fromEntries(
        Object.keys(x)
          .filter((k) => (x as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, walk((x as Record<string, unknown>)[k])]),
      )
    return x
  }
  return JSON.stringify(walk(v))
}

const signedBytes = (report: Omit<SnapshotReport, 'signature'> & { signature?: unknown }) => {
  const { signature: _s, ...body } = report
  return Buffer.from(REPORT_DOMAIN + canonicalJson(body))
}

export function signReport(report: SnapshotReport, key: ReportKey | null): SnapshotReport {
  if (!key) return { ...report, signature: null }
  const value = sign(null, signedBytes(report), key.privateKey).toString('base64')
  return { ...report, signature: { alg: 'Ed25519', keyId: key.keyId, publicKey: key.publicKeyHex, value } }
}

/**
 * Checks a report's signature (with `publicKeyHex` pinned when given: the key the auditor got
 * from the custodian out of band; else the key the report names, which proves integrity only).
 */
export function verifyReport(
  report: unknown,
  publicKeyHex?: string,
): { ok: true; keyId: string; pinned: boolean } | { ok: false; reason: string } {
  const r = report as Partial<SnapshotReport> | null
  if (!r || typeof r !== 'object' || r.kind !== REPORT_KIND) return { ok: false, reason: `not a ${REPORT_KIND}` }
  const s = r.signature
  if (!s) return { ok: false, reason: 'the report is unsigned (the service has no --report-key-file)' }
  if (s.alg !== 'Ed25519') return { ok: false, reason: `unknown signature algorithm ${String(s.alg)}` }
  if (publicKeyHex && publicKeyHex.toLowerCase() !== String(s.publicKey).toLowerCase())
    return { ok: false, reason: `signed by key ${s.keyId}, not the pinned key ${keyIdOf(publicKeyHex)}` }
  let ok: boolean
  try {
    ok = verify(null, signedBytes(r as SnapshotReport), publicKeyFromHex(s.publicKey), Buffer.from(s.value, 'base64'))
  } catch (err) {
    return { ok: false, reason: `the signature cannot be checked: ${(err as Error).message}` }
  }
  if (!ok) return { ok: false, reason: 'the signature does not match the report (edited, or another key)' }
  return { ok: true, keyId: s.keyId, pinned: Boolean(publicKeyHex) }
}

export interface ReportDeps {
  sql: Sql
  key: AtRestKey
  store: SnapshotStore
  /** The public summary of the newest completed reconciliation of a snapshot (null: none); the service gives the reconciliation feature's. */
  reconciliation: (snapshotId: string) => Promise<Record<string, unknown> | null>
  reportKey: ReportKey | null
  clockMs: () => number
}

/** Builds and signs the report of built snapshot `id` with `samples` proofs drawn from `seed` (random when absent). */
export async function buildReport(
  d: ReportDeps,
  id: string,
  opts: { samples: number; seed?: string },
): Promise<SnapshotReport> {
  if (!(Number.isInteger(opts.samples) && opts.samples >= 0 && opts.samples <= MAX_SAMPLES))
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `samples must be 0 to ${MAX_SAMPLES}, not ${opts.samples}`, {
      fault: 'caller',
    })
  const s = await d.store.get(id)
  if (s.status !== 'built' || !s.root || s.depth === null)
    throw new CairnError(
      ReservesErrorCode.SNAPSHOT_NOT_READY,
      `snapshot ${id} is ${s.status}: only a built snapshot has a report`,
      {
        fault: 'caller',
        hint: s.status === 'building' ? 'retry when GET /v1/snapshots/:id says built' : undefined,
      },
    )
  const seed = opts.seed ?? randomBytes(16).toString('hex')
  const proofs = await sampleProofs(d, id, s.root.hash, seed, opts.samples)
  const audit = await verifyAuditWithCheckpoint(d.sql)
  const report: SnapshotReport = {
    kind: REPORT_KIND,
    version: 1,
    generatedAt: new Date(d.clockMs()).toISOString(),
    snapshot: {
      id: s.id,
      hash: s.hash,
      root: s.root.hash,
      depth: s.depth,
      userCount: s.userCount,
      leafCount: 2 ** s.depth,
      createdAt: s.createdAt,
      builtAt: s.builtAt,
    },
    totals: s.currencies.map((c, i) => ({ symbol: c.symbol, decimals: c.decimals, amount: s.root!.balances[i]! })),
    anchor: s.anchor,
    reconciliation: await d.reconciliation(id),
    samples: {
      seed,
      requested: opts.samples,
      drawn: proofs.length,
      verified: proofs.filter((p) => p.ok).length,
      failed: proofs.filter((p) => !p.ok).length,
      proofs,
    },
    auditChain: audit.ok
      ? { ok: true, count: audit.count, head: audit.head, prunedThrough: audit.prunedThrough }
      : { ok: false, reason: `entry ${audit.seq}: ${audit.reason}` },
    signature: null,
  }
  return signReport(report, d.reportKey)
}

/**
 * Draws `n` distinct users (fewer when the snapshot has fewer) in leaf order positions chosen by
 * SHA-256(seed ‖ counter), builds each one's proof from the stored tree and verifies it.
 */
async function sampleProofs(d: ReportDeps, id: string, root: string, seed: string, n: number): Promise<SampledProof[]> {
  const count = await d.store.userCount(id)
  const random = seededRandom(seed)
  const picks = new Set<number>()
  while (picks.size < Math.min(n, count)) picks.add(randomBelow(random, count))
  const out: SampledProof[] = []
  for (const at of picks) {
    const userId = await d.store.userIdAt(id, at)
    if (userId === null) continue
    const proof = await d.store.proof(id, userId)
    const v = verifyProof(proof, { expectedRoot: root })
    out.push({
      ref: userRef(d.key, id, userId),
      leafIndex: proof.leafIndex,
      leafHash: v.leafHash ?? null,
      ok: v.ok,
      ...(v.reason ? { reason: v.reason } : {}),
    })
  }
  return out
}
