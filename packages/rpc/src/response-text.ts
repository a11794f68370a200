/** A JSON-RPC response envelope (the dispatcher's answers, the batch runner's entries). */
export interface JsonRpcResponse {
  jsonrpc: '2.0'
  id: string | number | null
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

/**
 * The text of a response: `JSON.stringify(res)`, byte for byte. A result answer is written around
 * its result's own text — its envelope's keys are always `jsonrpc`, `id`, `result`, in that order —
 * which spares JSON.stringify walking the envelope object (~0.15 µs of a ~5 µs read).
 */
export function responseText(res: JsonRpcResponse): string {
  if (res.error === undefined && 'result' in res) {
    const result = JSON.stringify(res.result)
    // undefined: a result JSON has no text for (a function), which JSON.stringify drops from the object.
    if (result !== undefined) return `{"jsonrpc":"2.0","id":${JSON.stringify(res.id)},"result":${result}}`
  }
  return JSON.stringify(res)
}
