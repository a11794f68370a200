// A web page can POST to 127.0.0.1:8545 without a CORS preflight when the body is text/plain, a
// form or multipart: such requests must never reach dispatch (the dev accounts are unlocked).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type StartedNode, startDevNode } from './live-node.ts'

describe('cross-site requests (geth: only JSON media types)', () => {
  let node: StartedNode
  let url: string
  beforeAll(async () => {
    node = await startDevNode()
    url = node.url
  })
  afterAll(async () => {
    await node?.close()
  })

  const beef = '0x000000000000000000000000000000000000bEEF'
  const send = async (contentType: string | undefined) => {
    const accounts = (await call(url, 'eth_accounts')).result as string[]
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_sendTransaction',
      params: [{ from: accounts[0], to: beef, value: '0x1' }],
    })
    // fetch would add text/plain for a string body; a form post sends exactly what a page sets.
    const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType }
    const res = await fetch(url, { method: 'POST', headers, body: new Blob([body]) })
    return { status: res.status, json: (await res.json()) as { error?: { code: number; message: string } } }
  }

  it.each([
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  ])('refuses %s with 415 before dispatch: no transaction is sent', async (type) => {
    const r = await send(type)
    expect(r.status).toBe(415)
    expect(r.json.error).toEqual({ code: -32600, message: 'invalid content type, only application/json is supported' })
    expect((await call(url, 'eth_getBalance', [beef, 'latest'])).result).toBe('0x0')
    expect((await call(url, 'txpool_status')).result).toEqual({ pending: '0x0', queued: '0x0' })
  })

  it('accepts the JSON media types geth accepts, with parameters', async () => {
    for (const type of [
      'application/json',
      'Application/JSON; charset=utf-8',
      'application/json-rpc',
      'application/jsonrequest',
    ]) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': type },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_chainId', params: [] }),
      })
      expect(res.status, type).toBe(200)
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 7, result: '0x539' })
    }
  })
})
