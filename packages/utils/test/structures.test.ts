import { describe, expect, it } from 'vitest'
import { TypedEmitter } from '../src/index.ts'

describe('TypedEmitter', () => {
  it('delivers to listeners until they unsubscribe', () => {
    const e = new TypedEmitter<{ tick: number }>()
    const seen: number[] = []
    const off = e.on('tick', (n) => seen.push(n))
    e.emit('tick', 1)
    off()
    e.emit('tick', 2)
    expect(seen).toEqual([1])
    expect(e.listenerCount('tick')).toBe(0)
  })
})
