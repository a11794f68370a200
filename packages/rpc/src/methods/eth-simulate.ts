import { z } from 'zod'
import { type MethodDef, method } from '../method.ts'
import { resolveBlock } from '../resolve.ts'
import { blockRefOrHash } from '../schemas.ts'
import { simOptions } from '../simulate/schema.ts'
import { simulate } from '../simulate/simulator.ts'

/** eth_simulateV1: blocks of calls simulated on a block's state (see src/simulate/simulator.ts). */
export const ethSimulateMethods: MethodDef[] = [
  method({
    name: 'eth_simulateV1',
    weight: 20,
    params: z.tuple([simOptions, blockRefOrHash.optional()]),
    async handler([opts, ref], ctx) {
      const base = await resolveBlock(ctx, ref ?? 'latest')
      return simulate(ctx, opts, base)
    },
  }),
]
