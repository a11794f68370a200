/**
 * Where the gateway sends a JSON-RPC request on its root endpoint (`/`). Pure: the method and
 * params in, a route out.
 *
 * - by the sender's home shard: `eth_sendRawTransaction` (the sender recovered from the signature);
 * - by an address's home shard: the state reads keyed by an address (`eth_getBalance`,
 *   `eth_getTransactionCount`, `eth_getCode`, `eth_getStorageAt`, `eth_getProof`) and the calls
 *   (`eth_call`, `eth_estimateGas`, `eth_createAccessList`: the `to` contract's shard, or `from`'s
 *   for a creation), `eth_getLogs` with one address;
 * - to every shard, first answer that is not null: lookups by transaction hash;
 * - the gateway's own: `cairn_getShardInfo`, `cairn_shardOf`, `cairn_getCrossShardTransaction`;
 * - everything else (block methods, `eth_chainId`, fees, `net_*`, `web3_*`): the coordinating
 *   shard (shard 0). A client that wants another shard's blocks uses `/shard/<n>`, a plain
 *   pass-through where viem and ethers work unchanged.
 */

export type Route =
  | { kind: 'sender'; raw: string }
  | { kind: 'address'; address: string }
  | { kind: 'anyShard' }
  | { kind: 'gateway' }
  | { kind: 'coordinating' }
  | { kind: 'refuse'; message: string }

const BY_FIRST_ADDRESS = new Set([
  'eth_getBalance',
  'eth_getTransactionCount',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_getProof',
])
const CALLS = new Set(['eth_call', 'eth_estimateGas', 'eth_createAccessList'])
const BY_HASH = new Set([
  'eth_getTransactionByHash',
  'eth_getTransactionReceipt',
  'debug_traceTransaction',
  'trace_transaction',
])
export const GATEWAY_METHODS = new Set(['cairn_getShardInfo', 'cairn_shardOf', 'cairn_getCrossShardTransaction'])

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

export function routeOf(method: string, params: unknown): Route {
  const p = Array.isArray(params) ? params : []
  if (GATEWAY_METHODS.has(method)) return { kind: 'gateway' }
  if (method === 'eth_sendRawTransaction' || method === 'eth_sendRawTransactionSync') {
    return typeof p[0] === 'string'
      ? { kind: 'sender', raw: p[0] }
      : { kind: 'refuse', message: 'expected the raw transaction as a hex string' }
  }
  if (BY_FIRST_ADDRESS.has(method)) {
    return typeof p[0] === 'string' && ADDRESS.test(p[0])
      ? { kind: 'address', address: p[0] }
      : { kind: 'refuse', message: `${method} takes an address (0x + 40 hex digits) first` }
  }
  if (CALLS.has(method)) {
    const call = (p[0] ?? {}) as { to?: unknown; from?: unknown }
    const address = typeof call.to === 'string' ? call.to : call.from
    return typeof address === 'string' && ADDRESS.test(address)
      ? { kind: 'address', address }
      : {
          kind: 'refuse',
          message: `${method} needs a "to" (or, for a creation, a "from") to find the shard: or use /shard/<n>`,
        }
  }
  if (method === 'eth_getLogs' || method === 'eth_newFilter') {
    const address = (p[0] as { address?: unknown } | undefined)?.address
    const one = Array.isArray(address) && address.length === 1 ? address[0] : address
    return typeof one === 'string' && ADDRESS.test(one)
      ? { kind: 'address', address: one }
      : {
          kind: 'refuse',
          message: `${method} on the gateway takes one contract address; for a shard's logs use /shard/<n>`,
        }
  }
  if (BY_HASH.has(method)) return { kind: 'anyShard' }
  return { kind: 'coordinating' }
}
