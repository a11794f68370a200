import { toQuantity } from '@cairn/utils'
import { z } from 'zod'
import { address, callRequest, data, hash32, looseQuantity, looseUint256 } from '../schemas.ts'

/** eth_simulateV1's parameters (execution-apis src/schemas/execute.yaml), validated at the edge. */

/** geth's BlockOverrides of a simulated block. */
export const simBlockOverride = z
  .object({
    number: looseQuantity.optional(),
    time: looseQuantity.optional(),
    gasLimit: looseQuantity.optional(),
    feeRecipient: address.optional(),
    prevRandao: hash32.optional(),
    baseFeePerGas: looseUint256.optional(),
    blobBaseFee: looseUint256.optional(),
    beaconRoot: hash32.optional(),
    difficulty: looseUint256.optional(),
    withdrawals: z
      .array(
        z.object({
          index: looseQuantity,
          validatorIndex: looseQuantity,
          address,
          amount: looseQuantity,
        }),
      )
      .optional(),
  })
  .strict()
export type SimBlockOverride = z.infer<typeof simBlockOverride>

/** A state override that may also move a precompile's code to another address. */
export const simStateOverride = z.record(
  address,
  z
    .object({
      balance: looseUint256.optional(),
      nonce: looseQuantity.optional(),
      code: data.optional(),
      state: z.record(z.string(), hash32).optional(),
      stateDiff: z.record(z.string(), hash32).optional(),
      movePrecompileToAddress: address.optional(),
    })
    .strict(),
)
export type SimStateOverride = z.infer<typeof simStateOverride>

/** An EIP-7702 authorization, kept as hex (the form @ethereumjs/tx builds set-code transactions from). */
const hexQuantity = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a hex number, like 0x1a')
const authorization = z.object({
  chainId: hexQuantity,
  address,
  // uint64s, kept as hex like the others
  nonce: looseQuantity.transform(toQuantity),
  yParity: looseQuantity.transform(toQuantity),
  r: hexQuantity,
  s: hexQuantity,
})

/** A call of a simulated block: eth_call's object, plus the fields of blob and set-code transactions. */
export const simCall = callRequest.extend({
  maxFeePerBlobGas: looseUint256.optional(),
  blobVersionedHashes: z.array(hash32).optional(),
  authorizationList: z.array(authorization).optional(),
})
export type SimCall = z.infer<typeof simCall>

export const simOptions = z
  .object({
    blockStateCalls: z.array(
      z
        .object({
          blockOverrides: simBlockOverride.optional(),
          stateOverrides: simStateOverride.optional(),
          calls: z.array(simCall).optional(),
        })
        .strict(),
    ),
    traceTransfers: z.boolean().optional(),
    validation: z.boolean().optional(),
    returnFullTransactions: z.boolean().optional(),
  })
  .strict()
export type SimOptions = z.infer<typeof simOptions>
