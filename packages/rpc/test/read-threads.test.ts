// Which HTTP bodies the server hands to a read thread (`--rpc.threads`): property over random
// bodies against a direct statement of the rule.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseBody, UNPARSEABLE } from '../src/body.ts'
import { readThreadMethods, readThreadWorthForwarding } from '../src/method-table.ts'
import { servedOnReadThread } from '../src/read-threads.ts'

const READ_THREAD_METHODS = readThreadMethods()
const READ_THREAD_WORTH_FORWARDING = readThreadWorthForwarding()

const methods = fc.constantFrom(
  ...READ_THREAD_METHODS,
  'eth_sendRawTransaction',
  'eth_estimateGas',
  'eth_subscribe',
  'evm_mine',
  'eth_getTransactionByHash',
  'debug_traceCall',
)
const param = fc.oneof(
  fc.constantFrom('latest', 'pending', 'earliest', '0x1'),
  fc.record({ blockNumber: fc.constantFrom('pending', '0x2') }),
  fc.record({ to: fc.constant(`0x${'11'.repeat(20)}`), data: fc.constant('0x') }),
)
const entry = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: fc.nat(),
  method: methods,
  params: fc.array(param, { maxLength: 3 }),
})

const pendingIn = (v: unknown): boolean => JSON.stringify(v).includes('"pending"')

describe('servedOnReadThread', () => {
  it('takes a body when every entry is a thread read naming no pending block and one is worth forwarding', () => {
    fc.assert(
      fc.property(fc.oneof(entry, fc.array(entry, { maxLength: 4 })), (value) => {
        const entries = Array.isArray(value) ? value : [value]
        const expected =
          entries.length > 0 &&
          entries.every((e) => READ_THREAD_METHODS.has(e.method) && !pendingIn(e.params)) &&
          entries.some((e) => READ_THREAD_WORTH_FORWARDING.has(e.method))
        expect(servedOnReadThread({ value })).toBe(expected)
      }),
    )
  })

  it('leaves unparseable and malformed bodies to the main thread', () => {
    expect(servedOnReadThread(UNPARSEABLE)).toBe(false)
    expect(servedOnReadThread(parseBody('[]'))).toBe(false)
    expect(servedOnReadThread(parseBody('[1]'))).toBe(false)
    expect(servedOnReadThread(parseBody('{"id":1}'))).toBe(false)
    expect(servedOnReadThread(parseBody('[{"method":"eth_call","params":[]},null]'))).toBe(false)
  })

  it('forwards only methods a thread serves', () => {
    for (const m of READ_THREAD_WORTH_FORWARDING) expect(READ_THREAD_METHODS.has(m)).toBe(true)
  })
})
