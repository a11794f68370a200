/**
 * One pinned client's session on the remote signer (`signer-server.ts`), past TLS: frames read one
 * at a time and answered in order, under three bounds —
 *
 * - a frame whose first byte has arrived must be whole within `frameTimeoutMs`, else the connection
 *   is closed (a half-sent frame cannot hold a session: slowloris);
 * - while more than `maxBufferedBytes` of answers wait for the client to take them, nothing more is
 *   read from it (the kernel's buffers then hold the client back), and a client that takes none
 *   for `stallTimeoutMs` is disconnected: a client that never reads costs a bounded amount of memory;
 * - a fault while answering (anything thrown) closes this connection and only this one.
 *
 * Every answer is encoded within the frame cap: one that would not fit is replaced by a short
 * `INTERNAL` error.
 */
import type { TLSSocket } from 'node:tls'
import {
  boundMessage,
  encodeFrame,
  FrameReader,
  type FrameRejection,
  frameRejectionOf,
  SignerErrorCode,
  type SignerResponse,
} from '@cairn/keys/remote-signer'
import { errorMessage, type Logger } from '@cairn/utils'
import type { SignerLimits } from './signer-limits.ts'

/** Why the signer closed a session (`cairn_signer_dropped_connections_total{reason}`). */
export type SessionDrop = 'bad_frame' | 'frame_timeout' | 'slow_reader' | 'fault'

/** Every {@link SessionDrop}, for metrics exported at 0. */
export const SESSION_DROPS: readonly SessionDrop[] = ['bad_frame', 'frame_timeout', 'slow_reader', 'fault']

export interface ServedConnectionEvents {
  /** A frame was rejected (its connection is then closed). */
  frameRejected(reason: FrameRejection): void
  /** The signer closed the connection. */
  dropped(reason: SessionDrop): void
}

export interface ServedConnectionModules {
  socket: TLSSocket
  /** Answers one request (synchronously: `SignerServer.handle`). */
  answer: (message: unknown) => SignerResponse
  log: Logger
  events: ServedConnectionEvents
  /** Timers (tests may inject; default the global ones). */
  setTimer?: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>
  clearTimer?: (timer: ReturnType<typeof setTimeout>) => void
}

export class ServedConnection {
  readonly #opts: Pick<SignerLimits, 'frameTimeoutMs' | 'maxBufferedBytes' | 'stallTimeoutMs'>
  readonly #m: ServedConnectionModules
  readonly #reader = new FrameReader()
  readonly #setTimer: NonNullable<ServedConnectionModules['setTimer']>
  readonly #clearTimer: NonNullable<ServedConnectionModules['clearTimer']>
  #frameTimer: ReturnType<typeof setTimeout> | undefined
  #stallTimer: ReturnType<typeof setTimeout> | undefined
  /** Not read while its answers wait over the bound. */
  #held = false
  #closed = false

  constructor(
    opts: Pick<SignerLimits, 'frameTimeoutMs' | 'maxBufferedBytes' | 'stallTimeoutMs'>,
    modules: ServedConnectionModules,
  ) {
    this.#opts = opts
    this.#m = modules
    this.#setTimer = modules.setTimer ?? ((fn, ms) => setTimeout(fn, ms))
    this.#clearTimer = modules.clearTimer ?? ((t) => clearTimeout(t))
    const { socket } = modules
    socket.on('data', (chunk: Buffer) =>
      this.#guard(() => {
        this.#reader.append(chunk)
        this.#pump()
      }),
    )
    socket.on('drain', () => this.#guard(() => this.#release()))
    socket.once('close', () => {
      this.#closed = true
      this.#clearTimers()
    })
  }

  /** Answers every whole frame, until the answers waiting for the client pass the bound. */
  #pump(): void {
    const { socket } = this.#m
    let completed = false
    while (!this.#closed) {
      if (socket.writableLength >= this.#opts.maxBufferedBytes) {
        this.#hold()
        return
      }
      let message: unknown
      try {
        message = this.#reader.next()
      } catch (err) {
        const reason = frameRejectionOf(err)
        if (reason === null) throw err
        this.#m.events.frameRejected(reason)
        this.#m.log.warn({ err: errorMessage(err) }, 'remote signer: bad frame; closing the connection')
        this.#drop('bad_frame')
        return
      }
      if (message === undefined) break
      completed = true
      socket.write(encodeAnswer(this.#m.answer(message)))
    }
    this.#armFrameDeadline(completed)
  }

  /** A frame begun and not whole: it must be whole by the deadline (restarted for each new frame). */
  #armFrameDeadline(completed: boolean): void {
    if (this.#reader.pending === 0 || this.#closed) {
      this.#clearFrameTimer()
      return
    }
    if (completed) this.#clearFrameTimer()
    if (this.#frameTimer !== undefined) return
    this.#frameTimer = this.#setTimer(
      () =>
        this.#guard(() => {
          this.#frameTimer = undefined
          if (this.#closed || this.#held) return
          this.#m.events.frameRejected('timeout')
          this.#m.log.warn(
            { bytes: this.#reader.pending, ms: this.#opts.frameTimeoutMs },
            'remote signer: a frame did not arrive whole in time; closing the connection',
          )
          this.#drop('frame_timeout')
        }),
      this.#opts.frameTimeoutMs,
    )
  }

  /** Stops reading until the client takes its answers; disconnects it if it never does. */
  #hold(): void {
    if (this.#held) return
    this.#held = true
    this.#clearFrameTimer()
    this.#m.socket.pause()
    this.#stallTimer = this.#setTimer(
      () =>
        this.#guard(() => {
          this.#stallTimer = undefined
          if (this.#closed || !this.#held) return
          this.#m.log.warn(
            { buffered: this.#m.socket.writableLength, ms: this.#opts.stallTimeoutMs },
            'remote signer: a client does not take its answers; closing the connection',
          )
          this.#drop('slow_reader')
        }),
      this.#opts.stallTimeoutMs,
    )
  }

  /** The client took its answers (`drain`): read it again. */
  #release(): void {
    if (!this.#held || this.#closed) return
    this.#held = false
    if (this.#stallTimer !== undefined) this.#clearTimer(this.#stallTimer)
    this.#stallTimer = undefined
    this.#m.socket.resume()
    this.#pump()
  }

  /** Runs `fn`; anything it throws closes this connection (never the process). */
  #guard(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      if (this.#closed) return
      this.#m.log.error(
        { err: boundMessage(errorMessage(err)) },
        'remote signer: a fault while serving a client; closing its connection',
      )
      this.#drop('fault')
    }
  }

  #drop(reason: SessionDrop): void {
    if (this.#closed) return
    this.#closed = true
    this.#clearTimers()
    this.#m.events.dropped(reason)
    this.#m.socket.destroy()
  }

  #clearFrameTimer(): void {
    if (this.#frameTimer !== undefined) this.#clearTimer(this.#frameTimer)
    this.#frameTimer = undefined
  }

  #clearTimers(): void {
    this.#clearFrameTimer()
    if (this.#stallTimer !== undefined) this.#clearTimer(this.#stallTimer)
    this.#stallTimer = undefined
  }
}

/** `answer` as a frame; one over the frame cap becomes a short `INTERNAL` error for its id. */
export function encodeAnswer(answer: SignerResponse): Buffer {
  try {
    return encodeFrame(answer)
  } catch {
    return encodeFrame({
      id: answer.id,
      error: { code: SignerErrorCode.INTERNAL, message: 'the answer would exceed the frame size' },
    })
  }
}
