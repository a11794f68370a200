import type { Currency, ProofNode } from '../verifier/proof.ts'

/** What an anchor records on chain: enough to check a proof's root and totals without the service. */
export interface AnchorPayload {
  v: 1
  snapshotId: string
  hash: 'sha256' | 'keccak256'
  currencies: Currency[]
  root: ProofNode
}

/** The calldata prefix of an anchor transaction: utf8("cairn-reserves:v1:"). */
export const ANCHOR_PREFIX = 'cairn-reserves:v1:'

/** Calldata of an anchor: the prefix and the payload's JSON, UTF-8, as 0x-hex. */
export function encodeAnchor(p: AnchorPayload): string {
  const text = ANCHOR_PREFIX + JSON.stringify(p)
  return `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** Reads calldata back into a payload; null when it is not an anchor. */
export function decodeAnchor(data: string): AnchorPayload | null {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(data)) return null
  const bytes = new Uint8Array((data.length - 2) / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(data.slice(2 + 2 * i, 4 + 2 * i), 16)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
  if (!text.startsWith(ANCHOR_PREFIX)) return null
  try {
    const p = JSON.parse(text.slice(ANCHOR_PREFIX.length)) as AnchorPayload
    return p && p.v === 1 && typeof p.snapshotId === 'string' && typeof p.root?.hash === 'string' ? p : null
  } catch {
    return null
  }
}
