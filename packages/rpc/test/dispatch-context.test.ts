import { requestContext } from '@cairn/service-kit'
import { describe, expect, it } from 'vitest'
import { parseBody } from '../src/body.ts'
import { dispatchInContext } from '../src/server.ts'

/** Which request id the dispatcher saw in the request context (undefined: it ran without one). */
async function contextSeen(methods: string[]): Promise<string | undefined> {
  let seen: string | undefined = 'never called'
  const dispatcher = {
    handleParsed: async () => {
      await Promise.resolve() // across an await, as a handler's work runs
      seen = requestContext.getStore()?.reqId
      return '{}'
    },
  }
  const body = parseBody(JSON.stringify(methods.map((method, id) => ({ jsonrpc: '2.0', id, method, params: [] }))))
  await dispatchInContext(dispatcher, body, { reqId: 'req-1' })
  return seen
}

describe('dispatchInContext', () => {
  it('runs what can make other modules log in the request context, reads and signed transactions without it', async () => {
    expect(await contextSeen(['evm_mine'])).toBe('req-1')
    expect(await contextSeen(['eth_sendTransaction'])).toBe('req-1')
    expect(await contextSeen(['eth_chainId', 'eth_sendTransaction'])).toBe('req-1')
    expect(await contextSeen(['eth_getBalance', 'eth_call'])).toBeUndefined()
    // A sender's batch of signed transactions (and the block it makes sealed) pay no context hook.
    expect(await contextSeen(['eth_sendRawTransaction', 'eth_sendRawTransaction'])).toBeUndefined()
    expect(await contextSeen(['eth_sendRawTransaction', 'eth_blockNumber'])).toBeUndefined()
    expect(await contextSeen(['eth_sendRawTransaction', 'txpool_status'])).toBe('req-1')
  })
})
