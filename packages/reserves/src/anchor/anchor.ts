import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { ProofV1 } from '../verifier/proof.ts'
import { type AnchorPayload, decodeAnchor, encodeAnchor } from './payload.ts'
import { rpcCall } from './rpc.ts'

/** Where a root was anchored. */
export interface AnchorRecord {
  chainId: number
  txHash: string
  blockNumber: number
}

interface Receipt {
  status: string
  blockNumber: string
}

async function waitReceipt(url: string, txHash: string, timeoutMs: number): Promise<Receipt> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await rpcCall<Receipt | null>(url, 'eth_getTransactionReceipt', [txHash])
    if (r) return r
    if (Date.now() > deadline)
      throw new CairnError(
        ReservesErrorCode.ANCHOR_FAILED,
        `anchor transaction ${txHash} not mined within ${timeoutMs} ms`,
        {
          fault: 'transient',
          hint: 'check that the chain is producing blocks; the transaction may still be mined',
        },
      )
    await new Promise((res) => setTimeout(res, 250))
  }
}

/**
 * Publishes a snapshot's root on an EVM chain: a 0-value transaction from `from` to itself whose
 * calldata is the {@link AnchorPayload} (snapshot id, hash name, currencies, root hash and totals).
 * `from` must be an account the node signs for (eth_sendTransaction): Cairn's dev accounts,
 * Anvil's, or a geth/Clef-managed key. Waits for the receipt.
 */
export async function anchorRoot(
  url: string,
  from: string,
  payload: AnchorPayload,
  timeoutMs = 60_000,
): Promise<AnchorRecord> {
  const chainId = Number(await rpcCall<string>(url, 'eth_chainId', []))
  const txHash = await rpcCall<string>(url, 'eth_sendTransaction', [
    { from, to: from, value: '0x0', data: encodeAnchor(payload) },
  ])
  const receipt = await waitReceipt(url, txHash, timeoutMs)
  if (receipt.status !== '0x1')
    throw new CairnError(ReservesErrorCode.ANCHOR_FAILED, `anchor transaction ${txHash} reverted`, {
      fault: 'internal',
    })
  return { chainId, txHash, blockNumber: Number(receipt.blockNumber) }
}

/** The outcome of comparing a proof with its on-chain anchor. */
export type AnchorCheck = { ok: true; blockNumber: number } | { ok: false; reason: string }

/**
 * Reads an anchor transaction and checks that it is mined and successful, and that its payload
 * names the proof's snapshot, hash, currencies, root hash and every root total.
 */
export async function checkAnchor(url: string, txHash: string, proof: ProofV1): Promise<AnchorCheck> {
  const tx = await rpcCall<{ input: string; from: string; to: string | null } | null>(url, 'eth_getTransactionByHash', [
    txHash,
  ])
  if (!tx) return { ok: false, reason: `transaction ${txHash} is not on this chain` }
  const receipt = await rpcCall<Receipt | null>(url, 'eth_getTransactionReceipt', [txHash])
  if (receipt?.status !== '0x1') return { ok: false, reason: `transaction ${txHash} is not mined or reverted` }
  const p = decodeAnchor(tx.input)
  if (!p) return { ok: false, reason: `transaction ${txHash} is not a reserves anchor` }
  if (p.snapshotId !== proof.snapshotId)
    return { ok: false, reason: `the anchor is for snapshot ${p.snapshotId}, not ${proof.snapshotId}` }
  if (p.hash !== proof.hash) return { ok: false, reason: `the anchor uses ${p.hash}, the proof ${proof.hash}` }
  if (p.root.hash.toLowerCase() !== proof.root.hash.toLowerCase())
    return { ok: false, reason: `the anchored root is ${p.root.hash}, the proof's ${proof.root.hash}` }
  if (JSON.stringify(p.root.balances) !== JSON.stringify(proof.root.balances))
    return { ok: false, reason: 'the anchored totals differ from the proof root totals' }
  if (JSON.stringify(p.currencies) !== JSON.stringify(proof.currencies))
    return { ok: false, reason: 'the anchored currencies differ from the proof' }
  return { ok: true, blockNumber: Number(receipt.blockNumber) }
}
