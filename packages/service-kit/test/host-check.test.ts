// hostAllowed remembers its last answer: asked in any order, with the list swapped between calls
// (a reload gives a new array), each (host, list) pair answers what it answers on a miss.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostAllowed } from '../src/index.ts'

const hosts = [
  'localhost',
  'localhost:8545',
  'LOCALHOST:1',
  '127.0.0.1:8545',
  '[::1]:8545',
  'evil.example',
  'app.example:443',
  '',
]
const lists: (readonly string[])[] = [['localhost'], ['app.example'], ['*'], [], ['localhost', 'app.example']]

/** The pair's answer with the memo missed first (another pair asked just before). */
function fresh(host: string, list: readonly string[]): boolean {
  hostAllowed('memo-breaker.invalid', [])
  return hostAllowed(host, list)
}

describe('hostAllowed', () => {
  it('answers as geth: listed names (any case, any port), IP literals, * and no Host pass', () => {
    expect(fresh('LOCALHOST:1', ['localhost'])).toBe(true)
    expect(fresh('127.0.0.1:8545', ['app.example'])).toBe(true)
    expect(fresh('[::1]:8545', [])).toBe(true)
    expect(fresh('evil.example', ['localhost'])).toBe(false)
    expect(fresh('evil.example', ['*'])).toBe(true)
    expect(fresh('', [])).toBe(true)
  })

  it('a remembered answer is the same as a fresh one, in any order of hosts and lists', () => {
    const expected = new Map<string, boolean>()
    for (const [li, list] of lists.entries()) for (const h of hosts) expected.set(`${li} ${h}`, fresh(h, list))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...hosts), fc.nat(lists.length - 1)), { minLength: 1, maxLength: 30 }),
        (calls) => {
          for (const [h, li] of calls)
            expect(hostAllowed(h, lists[li] as readonly string[])).toBe(expected.get(`${li} ${h}`))
        },
      ),
    )
  })

  it('a list swapped for a new array is read again', () => {
    const allowed = ['localhost']
    expect(hostAllowed('app.example', allowed)).toBe(false)
    expect(hostAllowed('app.example', [...allowed, 'app.example'])).toBe(true)
    expect(hostAllowed('app.example', allowed)).toBe(false)
  })
})
