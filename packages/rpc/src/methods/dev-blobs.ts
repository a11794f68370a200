import { bytesToHex, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import { blobByVersionedHash, blobsOfTx } from '../blob-store.ts'
import { invalidParams } from '../errors.ts'
import { impersonateSignature } from '../impersonation.ts'
import { type MethodDef, method } from '../method.ts'
import { address, data, hash32 } from '../schemas.ts'

/** A 65-byte r ‖ s ‖ v signature. */
const signature65 = data.refine((h) => h.length === 2 + 130, 'expected a 65-byte signature (r ‖ s ‖ v)')

/**
 * Anvil's blob reads (the blobs of blob transactions sent to this node over RPC, kept after their
 * block: blob-store.ts) and anvil_impersonateSignature (a raw transaction carrying that signature
 * is sent as the address, without recovering it).
 */
export const devBlobMethods: MethodDef[] = [
  method({
    name: 'anvil_getBlobByHash',
    devOnly: true,
    params: z.tuple([hash32]),
    handler([versionedHash], ctx) {
      const blob = blobByVersionedHash(ctx, versionedHash)
      return blob ? bytesToHex(blob) : null
    },
  }),
  method({
    name: 'anvil_getBlobsByTransactionHash',
    devOnly: true,
    params: z.tuple([hash32]),
    handler([txHash], ctx) {
      const blobs = blobsOfTx(ctx, txHash)
      return blobs ? blobs.map(bytesToHex) : null
    },
  }),
  method({
    // Anvil takes one param, the pair [signature, address]; the two as separate params are taken too.
    name: 'anvil_impersonateSignature',
    devOnly: true,
    params: z.union([z.tuple([z.tuple([signature65, address])]), z.tuple([signature65, address])]),
    handler(params, ctx) {
      const [sig, addr] = (params.length === 1 ? params[0] : params) as [string, string]
      const bytes = hexToBytes(sig as `0x${string}`)
      const r = BigInt(bytesToHex(bytes.subarray(0, 32)))
      const s = BigInt(bytesToHex(bytes.subarray(32, 64)))
      if (r === 0n || s === 0n) throw invalidParams('a signature with r or s zero')
      impersonateSignature(ctx, r, s, addr)
      return null
    },
  }),
]
