import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { describe, expect, it } from 'vitest'

// patches/@chainsafe+libp2p-yamux+8.0.1.patch: a receiver sends a window update only once half
// its window is used (hashicorp/yamux's rule) or when the update carries flags; unpatched, it sent
// one for every data frame received. These fail if the patch stops applying.

const WINDOW = 256 * 1024 // yamux's initial stream window
const DATA = 0
const WINDOW_UPDATE = 1
const ACK = 2

interface SentFrame {
  type: number
  flag: number
  length: number
}

function stream(state: StreamState): { s: YamuxStream; sent: SentFrame[] } {
  const noop = () => {}
  const log = Object.assign(noop, { trace: noop, error: noop, enabled: false, newScope: () => log })
  const sent: SentFrame[] = []
  const s = new YamuxStream({
    id: '1',
    streamId: 1,
    direction: 'inbound',
    state,
    log: log as never,
    protocol: '/test/1',
    getRTT: () => -1,
    sendFrame: (f: SentFrame) => {
      sent.push(f)
      return true
    },
  } as never)
  return { s, sent }
}

function receive(s: YamuxStream, bytes: number, flag = 0): void {
  s.handleData({ header: { type: DATA, flag, streamID: 1, length: bytes }, data: new Uint8Array(bytes) } as never)
}

describe('yamux receive window (patched: an update per half window, not per frame)', () => {
  it('sends no update for small frames until half the window is used, then one that restores it', () => {
    const { s, sent } = stream(StreamState.Established)
    for (let i = 0; i < 100; i++) receive(s, 1000) // 100 gossip-sized messages
    expect(sent).toEqual([])
    for (let i = 0; i < 40; i++) receive(s, 1000)
    const updates = sent.filter((f) => f.type === WINDOW_UPDATE)
    expect(updates).toHaveLength(1)
    expect(updates[0]?.length).toBe(Math.ceil(WINDOW / 2 / 1000) * 1000) // all that was used
  })

  it('never lets the sender run dry: a whole window received in one frame is answered at once', () => {
    const { s, sent } = stream(StreamState.Established)
    receive(s, WINDOW)
    expect(sent).toEqual([expect.objectContaining({ type: WINDOW_UPDATE, length: WINDOW })])
    // and the restored window takes another whole one
    receive(s, WINDOW)
    expect(sent).toHaveLength(2)
  })

  it('an update that carries flags (the ACK of a new inbound stream) is sent at once, however small', () => {
    const { s, sent } = stream(StreamState.SYNReceived)
    receive(s, 10)
    expect(sent).toEqual([expect.objectContaining({ type: WINDOW_UPDATE, flag: ACK })])
  })
})
