// StopOnSignals with a fake process: a signal or an EPIPE on stdout/stderr (or on the logger's
// destination, even before the service is up) stops the service once, cleanly; a failed close
// exits 1; a second signal exits 130 at once; any other stdio error is not swallowed.
import { EventEmitter } from 'node:events'
import { writerLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { StopOnSignals } from '../src/stop-on-signals.ts'

function harness(close: () => Promise<void> = async () => {}) {
  const lines: string[] = []
  const logger = writerLogger((level, fields, msg) =>
    lines.push(`${level} ${Object.keys(fields).length > 0 ? `${msg} ${JSON.stringify(fields)}` : msg}`),
  )
  const stderr = Object.assign(new EventEmitter(), { write: (t: string) => void lines.push(`stderr ${t.trim()}`) })
  const proc = Object.assign(new EventEmitter(), { stdout: new EventEmitter(), stderr })
  const exits: number[] = []
  let closes = 0
  const stopper = new StopOnSignals({
    exit: (code) => void exits.push(code),
    proc: proc as unknown as NodeJS.Process,
  })
  const exited = () =>
    new Promise<void>((resolve) => {
      const check = () => (exits.length > 0 ? resolve() : setImmediate(check))
      check()
    })
  const arm = () =>
    stopper.arm(logger, () => {
      closes++
      return close()
    })
  return { stopper, proc, lines, exits, closes: () => closes, exited, arm }
}

describe('StopOnSignals', () => {
  it('SIGTERM: shutting down, the service closed once, stopped cleanly, exit 0', async () => {
    const h = harness()
    h.arm()
    h.proc.emit('SIGTERM', 'SIGTERM')
    await h.exited()
    expect(h.lines).toEqual(['info shutting down {"signal":"SIGTERM"}', 'info stopped cleanly'])
    expect(h.closes()).toBe(1)
    expect(h.exits).toEqual([0])
  })

  it('a second signal while closing exits 130 at once', async () => {
    let finish = () => {}
    const h = harness(() => new Promise<void>((r) => (finish = r)))
    h.arm()
    h.proc.emit('SIGINT', 'SIGINT')
    h.proc.emit('SIGINT', 'SIGINT')
    expect(h.exits).toEqual([130])
    expect(h.lines).toContain('stderr second signal: exiting now')
    finish()
    await new Promise((r) => setImmediate(r))
    expect(h.closes()).toBe(1)
  })

  it('a close that fails is logged and exits 1', async () => {
    const h = harness(async () => {
      throw new Error('disk gone')
    })
    h.arm()
    h.proc.emit('SIGTERM', 'SIGTERM')
    await h.exited()
    expect(h.lines.at(-1)).toMatch(/^error shutdown failed/)
    expect(h.exits).toEqual([1])
  })

  it('EPIPE on stdout or stderr stops as a signal does; other stdio errors are thrown', async () => {
    const h = harness()
    h.arm()
    expect(() => h.proc.stdout.emit('error', Object.assign(new Error('x'), { code: 'EIO' }))).toThrow('x')
    expect(h.exits).toEqual([])
    h.proc.stderr.emit('error', Object.assign(new Error('broken pipe'), { code: 'EPIPE' }))
    h.proc.stdout.emit('error', Object.assign(new Error('broken pipe'), { code: 'EPIPE' }))
    await h.exited()
    expect(h.lines[0]).toBe('info shutting down {"signal":"EPIPE"}')
    expect(h.closes()).toBe(1)
    expect(h.exits).toEqual([0])
  })

  it("the logger's broken pipe before the service is up stops it as soon as it is armed", async () => {
    const h = harness()
    h.stopper.onBrokenPipe()
    expect(h.closes()).toBe(0)
    h.arm()
    await h.exited()
    expect(h.closes()).toBe(1)
    expect(h.exits).toEqual([0])
  })
})
