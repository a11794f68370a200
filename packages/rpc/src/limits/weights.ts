/** Cost of one call of `method` against a rate limit: heavy reads and traces cost more. */
export function methodWeight(method: string): number {
  if (method.startsWith('debug_')) return 20
  if (method === 'eth_getLogs') return 10
  if (method === 'eth_call' || method === 'eth_estimateGas' || method === 'eth_createAccessList') return 5
  return 1
}
