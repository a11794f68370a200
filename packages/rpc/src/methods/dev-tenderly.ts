import { hexToBytes } from '@cairn/utils'
import { Address } from '@ethereumjs/util'
import { z } from 'zod'
import { type MethodDef, method } from '../method.ts'
import { address, numberOrHex256 } from '../schemas.ts'
import { dev } from './dev.ts'

/** One address or several, as Tenderly's methods take them. */
const addresses = z.union([address, z.array(address).min(1)]).transform((a) => (Array.isArray(a) ? a : [a]))

/**
 * Tenderly's balance edits as Anvil serves them (dev mode): `tenderly_setBalance` sets, and
 * `tenderly_addBalance` adds to, the balance of one address or of each of several; null, as Anvil.
 */
export const devTenderlyMethods: MethodDef[] = [
  method({
    name: 'tenderly_setBalance',
    devOnly: true,
    params: z.tuple([addresses, numberOrHex256]),
    async handler([list, wei], ctx) {
      await dev(ctx).editState(async (sm) => {
        for (const a of list) await sm.modifyAccountFields(new Address(hexToBytes(a)), { balance: wei })
      })
      return null
    },
  }),
  method({
    name: 'tenderly_addBalance',
    devOnly: true,
    params: z.tuple([addresses, numberOrHex256]),
    async handler([list, wei], ctx) {
      await dev(ctx).editState(async (sm) => {
        for (const a of list) {
          const addr = new Address(hexToBytes(a))
          const balance = (await sm.getAccount(addr))?.balance ?? 0n
          await sm.modifyAccountFields(addr, { balance: balance + wei })
        }
      })
      return null
    },
  }),
]
