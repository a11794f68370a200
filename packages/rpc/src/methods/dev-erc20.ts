import { CairnError, hexToBytes } from '@cairn/utils'
import { Address, setLengthLeft } from '@ethereumjs/util'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { callGas, withCall } from '../exec.ts'
import { invokeMethod, type MethodDef, method } from '../method.ts'
import { address, callRequest, numberOrHex256 } from '../schemas.ts'
import { dev } from './dev.ts'
import { ethCall } from './eth-state.ts'

/**
 * Anvil's `anvil_dealERC20` (`hardhat_dealERC20`, `anvil_setERC20Balance`) and
 * `anvil_setERC20Allowance`, found as Anvil finds them: the token's `balanceOf(holder)` (or
 * `allowance(owner, spender)`) is run with an access list recorded; each storage slot it read is
 * tried in turn with the amount written in (an eth_call state override) until the call answers the
 * amount; that slot is then set (a state edit, sealed in a block as the other edits). A token whose
 * balance is not one stored word (rebasing tokens, shares) is refused.
 */

const BALANCE_OF = '0x70a08231'
const ALLOWANCE = '0xdd62ed3e'

function word(addr: string): string {
  return addr.slice(2).toLowerCase().padStart(64, '0')
}

/** Finds the slot of `token` that `data`'s view call reads the amount from, and sets it to `amount`. */
async function setTokenSlot(ctx: RpcContext, token: string, data: string, amount: bigint, what: string): Promise<void> {
  const call = { to: token, data }
  const block = ctx.chain.head
  const req = callRequest.parse(call)
  const accessList = await withCall(ctx, req, block, { reportAccessList: true }, async (c) => {
    await c.run(callGas(ctx, req))
    return c.slotsTouched()
  })
  const value = `0x${amount.toString(16).padStart(64, '0')}`
  for (const entry of accessList) {
    for (const slot of entry.storageKeys) {
      const override = { [entry.address]: { stateDiff: { [slot]: value } } }
      const answer = await invokeMethod(ethCall, [call, 'latest', override], ctx).catch(() => '0x')
      if (answer.length < 66 || BigInt(answer.slice(0, 66)) !== amount) continue
      const at = new Address(hexToBytes(entry.address as `0x${string}`))
      const key = setLengthLeft(hexToBytes(slot as `0x${string}`), 32)
      await dev(ctx).editState(async (sm) => {
        await sm.modifyAccountFields(at, {})
        await sm.putStorage(at, key, hexToBytes(value as `0x${string}`))
      })
      return
    }
  }
  throw new CairnError(
    RpcErrorCode.EXECUTION_FAILED,
    `Unable to set ERC20 ${what} for ${token}: no storage slot read by the call holds it`,
    {
      fault: 'caller',
      hint: 'the token must keep the amount in one storage word (rebasing and share-based tokens do not); set it with anvil_setStorageAt',
    },
  )
}

const amount = numberOrHex256
export const devErc20Methods: MethodDef[] = [
  ...['anvil_dealERC20', 'hardhat_dealERC20', 'anvil_setERC20Balance'].map((name) =>
    method({
      name,
      devOnly: true,
      // As Anvil: [holder, token, amount].
      params: z.tuple([address, address, amount]),
      async handler([holder, token, value], ctx) {
        await setTokenSlot(ctx, token, `${BALANCE_OF}${word(holder)}`, value, 'balance')
        return null
      },
    }),
  ),
  method({
    name: 'anvil_setERC20Allowance',
    devOnly: true,
    // As Anvil: [owner, spender, token, amount].
    params: z.tuple([address, address, address, amount]),
    async handler([owner, spender, token, value], ctx) {
      await setTokenSlot(ctx, token, `${ALLOWANCE}${word(owner)}${word(spender)}`, value, 'allowance')
      return null
    },
  }),
]
