import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import { type MethodDef, method } from '../method.ts'
import { data } from '../schemas.ts'

export const netWeb3Methods: MethodDef[] = [
  method({
    name: 'web3_clientVersion',
    params: z.tuple([]),
    handler: (_p, ctx) => ctx.clientVersion,
    result: z.string().min(1),
  }),
  method({
    name: 'web3_sha3',
    params: z.tuple([data]),
    handler: ([d]) => bytesToHex(keccak256(hexToBytes(d))),
  }),
  method({
    name: 'net_version',
    params: z.tuple([]),
    handler: (_p, ctx) => ctx.chain.chainId.toString(),
    // The chain id in decimal (geth's network id).
    result: z.string().regex(/^(0|[1-9][0-9]*)$/),
  }),
  method({ name: 'net_listening', params: z.tuple([]), handler: (_p, ctx) => ctx.network.listening() }),
  method({ name: 'net_peerCount', params: z.tuple([]), handler: (_p, ctx) => toQuantity(ctx.network.peerCount()) }),
]
