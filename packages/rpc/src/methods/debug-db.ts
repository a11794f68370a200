import { bytesToHex, CairnError, concatBytes, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import { RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { hash32 } from '../schemas.ts'

/** The prefix of a code entry in the state's key-value store (@ethereumjs/statemanager's CODEHASH_PREFIX, "c"). */
const CODEHASH_PREFIX = Uint8Array.of(0x63)

/** What debug_codeByHash reads: the state manager's code store (keyed by the code's hash). */
interface CodeStore {
  _getCodeDB(): { get(key: Uint8Array): Promise<Uint8Array | undefined> }
}

/** geth's raw database reads: code by its hash; raw keys are not geth's here. */
export const debugDbMethods: MethodDef[] = [
  method({
    // geth's and Anvil's: the code whose keccak256 is `hash`, "0x" when no contract has it.
    name: 'debug_codeByHash',
    weight: 1,
    params: z.tuple([hash32]).or(z.tuple([hash32, z.unknown()])),
    async handler([hash], ctx) {
      const state = ctx.chain.stateAfter(ctx.chain.head.header) as unknown as CodeStore
      const code = await state._getCodeDB().get(concatBytes(CODEHASH_PREFIX, hexToBytes(hash)))
      return bytesToHex(code ?? new Uint8Array())
    },
  }),
  method({
    // geth's reads a key of its own database schema; Cairn's keys are another's (Anvil refuses it too).
    name: 'debug_dbGet',
    params: z.array(z.unknown()),
    handler() {
      throw new CairnError(
        RpcErrorCode.NOT_IMPLEMENTED,
        "Not implemented: debug_dbGet reads geth's database keys, and Cairn's database is laid out differently",
        { fault: 'caller', hint: 'read chain data with eth_*, debug_getRaw* and debug_codeByHash' },
      )
    },
  }),
]
