/**
 * Cost of one call of `method` against a rate limit, by the work it can cause: traces and raw
 * block data (debug_*), multi-block simulations and block building (testing_*) most, then whole blocks of logs or receipts,
 * then anything that executes the EVM (calls, estimates, and the sends and fills that estimate).
 */
export function methodWeight(method: string): number {
  if (
    method.startsWith('debug_') ||
    method.startsWith('trace_') ||
    method.startsWith('ots_') ||
    method.startsWith('testing_') ||
    method === 'eth_simulateV1'
  )
    return 20
  if (method === 'eth_getLogs' || method === 'eth_getFilterLogs' || method === 'eth_getBlockReceipts') return 10
  if (EXECUTES.has(method)) return 5
  return 1
}

const EXECUTES = new Set([
  'eth_call',
  'eth_estimateGas',
  'eth_createAccessList',
  'eth_fillTransaction',
  'eth_sendTransaction',
  'eth_signTransaction',
  'eth_getProof',
])
