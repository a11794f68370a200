// responseText is JSON.stringify of the response, byte for byte, whatever the result or error.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonRpcResponse } from '../src/dispatcher.ts'
import { responseText } from '../src/response-text.ts'

const ids = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null))

describe('responseText', () => {
  it('equals JSON.stringify for results of any JSON shape and for errors', () => {
    fc.assert(
      fc.property(ids, fc.jsonValue(), (id, result) => {
        const res: JsonRpcResponse = { jsonrpc: '2.0', id, result }
        expect(responseText(res)).toBe(JSON.stringify(res))
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(
        ids,
        fc.integer(),
        fc.string(),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (id, code, message, data) => {
          const res: JsonRpcResponse = {
            jsonrpc: '2.0',
            id,
            error: { code, message, ...(data === undefined ? {} : { data }) },
          }
          expect(responseText(res)).toBe(JSON.stringify(res))
        },
      ),
    )
  })

  it('a result JSON has no text for is dropped, as JSON.stringify drops it', () => {
    const res = { jsonrpc: '2.0', id: 1, result: () => 1 } as unknown as JsonRpcResponse
    expect(responseText(res)).toBe('{"jsonrpc":"2.0","id":1}')
    const strings: JsonRpcResponse = { jsonrpc: '2.0', id: 'é✓"\\\n', result: '\u2028</script>' }
    expect(responseText(strings)).toBe(JSON.stringify(strings))
  })
})
