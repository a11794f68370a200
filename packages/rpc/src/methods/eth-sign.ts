import { ecdsaSign, keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError, concatBytes, type Hex, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { hashTypedData, type TypedData } from '../eip712.ts'
import { RpcErrorCode } from '../errors.ts'
import { formatTx } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { address, callRequest, data } from '../schemas.ts'
import { fillRequest } from './eth-send.ts'

/** Message signing by unlocked dev accounts, and eth_fillTransaction. */

function keyFor(ctx: RpcContext, addr: Hex): Uint8Array {
  const key = ctx.accounts.privateKey(addr)
  if (!key) {
    throw new CairnError(RpcErrorCode.UNKNOWN_ACCOUNT, 'unknown account', {
      fault: 'caller',
      hint: 'the node signs only for its unlocked accounts (eth_accounts); sign locally instead',
    })
  }
  return key
}

/** A 65-byte r ‖ s ‖ v signature with v = 27 + recovery, as geth's eth_sign returns it. */
function sign65(digest: Uint8Array, key: Uint8Array): string {
  const sig = ecdsaSign(digest, key)
  return bytesToHex(concatBytes(sig.r, sig.s, Uint8Array.of(27 + sig.recovery)))
}

/** EIP-191 version 0x45: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message). */
export function personalMessageHash(message: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`\x19Ethereum Signed Message:\n${message.length}`)
  return keccak256(concatBytes(prefix, message))
}

const typedDataSchema = z.object({
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.string(),
  domain: z.record(z.string(), z.unknown()),
  message: z.record(z.string(), z.unknown()),
})

export const ethSignMethods: MethodDef[] = [
  method({
    name: 'eth_sign',
    role: 'user',
    params: z.tuple([address, data]),
    handler: ([addr, message], ctx) => sign65(personalMessageHash(hexToBytes(message)), keyFor(ctx, addr)),
  }),
  method({
    name: 'personal_sign',
    role: 'user',
    params: z.tuple([data, address]),
    handler: ([message, addr], ctx) => sign65(personalMessageHash(hexToBytes(message)), keyFor(ctx, addr)),
  }),
  method({
    name: 'eth_signTypedData_v4',
    role: 'user',
    // Wallets send the typed data as a JSON string; some clients send the object itself.
    params: z.tuple([
      address,
      z.union([
        typedDataSchema,
        z.string().transform((s, c) => {
          try {
            const parsed = typedDataSchema.safeParse(JSON.parse(s))
            if (parsed.success) return parsed.data
            c.addIssue({ code: 'custom', message: `not EIP-712 typed data: ${parsed.error.issues[0]?.message}` })
          } catch {
            c.addIssue({ code: 'custom', message: 'typed data is not valid JSON' })
          }
          return z.NEVER
        }),
      ]),
    ]),
    handler: ([addr, typed], ctx) => sign65(hashTypedData(typed as TypedData), keyFor(ctx, addr)),
  }),
  method({
    name: 'eth_fillTransaction',
    weight: 5,
    params: z.tuple([callRequest]),
    async handler([req], ctx) {
      const tx = await fillRequest(ctx, req)
      const from = req.from ?? '0x0000000000000000000000000000000000000000'
      return { raw: bytesToHex(tx.serialize()), tx: formatTx(tx, undefined, from) }
    },
  }),
]
