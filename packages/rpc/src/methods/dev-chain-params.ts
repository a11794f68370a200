import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { invalidParams, RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { numberOrHex, numberOrHex256 } from '../schemas.ts'

/**
 * Anvil's chain-parameter edits Cairn answers as Anvil does where it can, and refuses where its
 * design does not allow them (docs/api/json-rpc.md says why).
 */
export const devChainParamMethods: MethodDef[] = [
  ...['anvil_setMinGasPrice', 'hardhat_setMinGasPrice'].map((name) =>
    method({
      // As Anvil: a minimum gas price means nothing once blocks have a base fee (EIP-1559), which
      // every Cairn chain has.
      name,
      devOnly: true,
      params: z.tuple([numberOrHex256]),
      handler() {
        throw invalidParams('anvil_setMinGasPrice is not supported when EIP-1559 is active')
      },
    }),
  ),
  method({
    // Refused: the chain id is part of the chain's rules (its Common), fixed at genesis; every stored
    // block, the pool's replay protection and the dev accounts' signatures are bound to it.
    name: 'anvil_setChainId',
    devOnly: true,
    params: z.tuple([numberOrHex]),
    handler() {
      throw new CairnError(
        RpcErrorCode.NOT_SUPPORTED,
        "anvil_setChainId is not supported: a Cairn chain's id is fixed at genesis (its blocks and transactions are bound to it)",
        { fault: 'caller', hint: 'start the dev node with --chain-id (or a genesis file) naming the id you need' },
      )
    },
  }),
]
