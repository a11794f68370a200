// A read thread's head (src/rpc-threads/thread-head.ts): the last head named is applied when a
// request needs it (one block read for a burst of blocks), its cache-clearing and edit re-reading
// flags are kept until then, and with a shared head sequence a request waits for the head message
// of the latest number.
import { describe, expect, it } from 'vitest'
import { HeadSeq } from '../../src/rpc-threads/messages.ts'
import { AUTO_THREADS_MAX, readThreadCount, reusePortSupported } from '../../src/rpc-threads/thread-count.ts'
import { ThreadHead } from '../../src/rpc-threads/thread-head.ts'

function recorder() {
  const applied: { hash: string; clear: boolean; edits: boolean }[] = []
  const apply = async (hash: string, clear: boolean, edits: boolean) => {
    await new Promise((r) => setImmediate(r))
    applied.push({ hash, clear, edits })
  }
  return { applied, apply }
}

describe('ThreadHead', () => {
  it('applies only the last head named before a request, with every flag named since', async () => {
    const { applied, apply } = recorder()
    const head = new ThreadHead(apply, null)
    expect(head.ready()).toBeUndefined()
    head.named({ hash: '0x01', clear: true, edits: false })
    head.named({ hash: '0x02', clear: false, edits: true })
    head.named({ hash: '0x03', clear: false, edits: false })
    await head.ready()
    expect(applied).toEqual([{ hash: '0x03', clear: true, edits: true }])
    expect(head.ready()).toBeUndefined()
    head.named({ hash: '0x04', clear: false, edits: false })
    await Promise.all([head.ready(), head.ready()])
    expect(applied.map((a) => a.hash)).toEqual(['0x03', '0x04'])
  })

  it('a head named while one is being applied is applied before ready() resolves', async () => {
    const { applied, apply } = recorder()
    const head = new ThreadHead(apply, null)
    head.named({ hash: '0x01', clear: false, edits: false })
    const first = head.ready()
    head.named({ hash: '0x02', clear: false, edits: false })
    await first
    expect(applied.map((a) => a.hash)).toEqual(['0x01', '0x02'])
  })

  it('with a shared sequence, waits for the head message of the latest number', async () => {
    const { applied, apply } = recorder()
    const seq = new HeadSeq()
    const head = new ThreadHead(apply, seq)
    expect(head.ready()).toBeUndefined()
    const n = seq.bump()
    let done = false
    const waiting = head.ready()?.then(() => {
      done = true
    })
    expect(waiting).toBeDefined()
    await new Promise((r) => setImmediate(r))
    expect(done).toBe(false)
    head.named({ hash: '0x05', clear: false, edits: false, seq: n })
    await waiting
    expect(applied.map((a) => a.hash)).toEqual(['0x05'])
    expect(head.ready()).toBeUndefined()
  })
})

describe('read thread count and reusePort', () => {
  it('auto: one per core but one, at least 1, at most 8, only where threads listen themselves', () => {
    expect(readThreadCount('auto', true, 1)).toBe(1)
    expect(readThreadCount('auto', true, 2)).toBe(1)
    expect(readThreadCount('auto', true, 4)).toBe(3)
    expect(readThreadCount('auto', true, 64)).toBe(AUTO_THREADS_MAX)
    expect(readThreadCount('auto', false, 64)).toBe(0)
    expect(readThreadCount(3, false, 2)).toBe(3)
    expect(readThreadCount(0, true, 16)).toBe(0)
  })

  it('reusePort from Node 22.12 and 23.1, on Linux only', () => {
    expect(reusePortSupported('20.20.2', 'linux')).toBe(false)
    expect(reusePortSupported('22.11.0', 'linux')).toBe(false)
    expect(reusePortSupported('22.12.0', 'linux')).toBe(true)
    expect(reusePortSupported('23.0.0', 'linux')).toBe(false)
    expect(reusePortSupported('23.1.0', 'linux')).toBe(true)
    expect(reusePortSupported('24.21.0', 'linux')).toBe(true)
    expect(reusePortSupported('24.21.0', 'darwin')).toBe(false)
  })
})
