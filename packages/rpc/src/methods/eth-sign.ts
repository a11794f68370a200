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

/** Typed data as wallets send it (a JSON string) or as some clients do (the object itself). */
const typedDataParam = z.union([
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
])

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
    params: z.tuple([address, typedDataParam]),
    handler: ([addr, typed], ctx) => sign65(hashTypedData(typed as TypedData), keyFor(ctx, addr)),
  }),
  method({
    // MetaMask's v3: EIP-712 without arrays or recursive types; for the data v3 signs, v4's hash is
    // the same, so it is signed as v4 (Anvil answers "Not implemented").
    name: 'eth_signTypedData_v3',
    role: 'user',
    params: z.tuple([address, typedDataParam]),
    handler: ([addr, typed], ctx) => sign65(hashTypedData(typed as TypedData), keyFor(ctx, addr)),
  }),
  method({
    // EIP-712 typed data as an object signs as v4 (what libraries calling it mean); MetaMask's
    // legacy v1 form (an array of {type, name, value}) is refused.
    name: 'eth_signTypedData',
    role: 'user',
    params: z.tuple([address, z.union([typedDataParam, z.array(z.unknown())])]),
    handler([addr, typed], ctx) {
      if (Array.isArray(typed)) {
        throw new CairnError(
          RpcErrorCode.NOT_IMPLEMENTED,
          'Not implemented: legacy typed data (an array of {type, name, value}, MetaMask v1)',
          { fault: 'caller', hint: 'sign EIP-712 typed data with eth_signTypedData_v4' },
        )
      }
      return sign65(hashTypedData(typed as TypedData), keyFor(ctx, addr))
    },
  }),
  method({
    name: 'eth_fillTransaction',
    weight: 5,
    params: z.tuple([callRequest]),
    async handler([req], ctx) {
      const tx = await fillRequest(ctx, req)
      const from = req.from ?? '0x0000000000000000000000000000000000000000'
      // Not in a block: no block timestamp field (geth's and Anvil's filled transactions have none).
      const { blockTimestamp: _none, ...filled } = formatTx(tx, undefined, from)
      return { raw: bytesToHex(tx.serialize()), tx: filled }
    },
  }),
]
