import { z } from 'zod'
import { impersonatedSet } from '../impersonation.ts'
import { type MethodDef, method } from '../method.ts'
import { address } from '../schemas.ts'

function both(name: string, def: Omit<MethodDef, 'name'>): MethodDef[] {
  return [
    method({ ...def, name: `anvil_${name}` } as MethodDef),
    method({ ...def, name: `hardhat_${name}` } as MethodDef),
  ]
}

/** Sending as any address without its key (dev mode), as Anvil and Hardhat do. */
export const devImpersonateMethods: MethodDef[] = [
  ...both('impersonateAccount', {
    devOnly: true,
    params: z.tuple([address]),
    handler: ([a]: [string], ctx) => {
      impersonatedSet(ctx).add(a.toLowerCase())
      return null
    },
  } as Omit<MethodDef, 'name'>),
  ...both('stopImpersonatingAccount', {
    devOnly: true,
    params: z.tuple([address]),
    handler: ([a]: [string], ctx) => {
      impersonatedSet(ctx).delete(a.toLowerCase())
      return null
    },
  } as Omit<MethodDef, 'name'>),
]
