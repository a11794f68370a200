// The JSON-RPC port's fast lane: plain `POST /` requests answered straight off the socket, without
// Node's HTTP machinery and Fastify's request objects, hooks and reply (issue 20: a read's HTTP
// handling cost ~30 µs of CPU on Node 20 against ~2 µs of dispatch, and Anvil answers in ~14 µs in
// all). The lane owns each new connection of the port's `http.Server` (it takes the place of Node's
// own `connection` listener, so the server still listens, counts and times out as before) and
// reads its requests itself while they are plain (plain-post.ts). The first request that is not —
// a GET, an upgrade, a CORS request, chunked, over the body limit, refused at the edge — and every
// later one on that connection go to Node's parser and Fastify: the lane hands the connection over
// at that request's first byte, with the bytes it holds, and never takes it back.
//
// What the lane does itself, as Node does it: requests on a connection are answered one at a time
// in order (pipelined ones wait), a request must arrive in full within `requestTimeoutMs` and its
// head within the server's `headersTimeout` (408 and close, as Node's `requestTimeout` and
// `headersTimeout`), an idle connection closes after `keepAliveMs`, a client that does not read
// stops the reading of its next requests (back-pressure), and `close()` ends every connection it
// holds. The answer (status, headers, body) comes from `modules.answer`: an answer it has now (a
// head read, an account in memory) is written in the same turn, and the next pipelined request is
// read in a loop, not a recursion (so thousands pipelined do not grow the stack).
import { maxHeaderSize, type Server, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { endLingering } from '../http/linger.ts'
import { isPromise } from '../promise.ts'
import { type HeadScan, MAX_HEAD_BYTES, type PlainPost, scanPlainPost } from './plain-post.ts'

/** What the lane writes back: the status, the headers after the fixed ones, the body. */
export interface LaneAnswer {
  status: number
  /** Header lines (`name: value\r\n` each) beside the fixed ones: `x-request-id`, `retry-after`. */
  headers: string
  body: string
}

export interface FastLaneOptions {
  /** Largest body answered here; a longer one goes to Fastify (413). */
  bodyLimit: number
  /** Longest a request may take to arrive, head and body (Node's `requestTimeout`). */
  requestTimeoutMs: number
  /** How long an idle keep-alive connection is kept. */
  keepAliveMs: number
  /** Header lines every answer carries (`name: value\r\n` each), before the per-answer ones. */
  fixedHeaders: string
}

export interface FastLaneModules {
  /** Whether this plain request may be answered here (else the connection goes to Fastify from it on). */
  admits(post: PlainPost, socket: Socket): boolean
  /** The answer to an admitted request: now, or a promise of it (see the file's comment). */
  answer(post: PlainPost, body: string, socket: Socket): LaneAnswer | Promise<LaneAnswer>
  /** A connection went to the full server (counted). */
  handedOver(): void
  /** Logs an answer that failed (a bug: `answer` is meant not to throw). */
  failed(err: unknown): void
}

/** A connection the lane holds. */
interface Held {
  socket: Socket
  /** Bytes received and not yet consumed (a request's start, then pipelined ones), in arrival order. */
  parts: Buffer[]
  /** Their total length. */
  size: number
  /** Bytes the request under way needs before it can be answered (a body still arriving: no copying until then). */
  need: number
  /** Bytes of an incomplete head already scanned (scanPlainPost's `scanned`); 0 when the next request starts. */
  scanned: number
  /** When the request being received began (ms): the first at the connection's accept, as Node counts it; 0 between requests. */
  since: number
  /** A request is being answered, or its answer waits for the client to read: later bytes wait. */
  busy: boolean
  onData: (chunk: Buffer) => void
  onError: () => void
  /** The client ended its side: end ours once the answer under way is written. */
  onEnd: () => void
  ended: boolean
  /**
   * The bytes of the last head scanned on this connection that was the lane's, and what its scan
   * found: a client sends the same head again and again (its Content-Length too when its bodies
   * are of one length), and the same bytes scan the same (see {@link FastLane.scan}).
   */
  lastHead: Buffer | undefined
  lastPost: PlainPost | undefined
}

/** Heads up to this long are remembered per connection (a JSON-RPC client's is 100–400 bytes). */
const REMEMBERED_HEAD = 1024

/** The headers every answer carries after its own, up to the content length's value. */
const LENGTH = 'content-type: application/json; charset=utf-8\r\ncontent-length: '

const INTERNAL = '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}'

/** See the file's comment. */
export class FastLane {
  private readonly held = new Set<Held>()
  private sweep: NodeJS.Timeout | undefined
  private dateTail = ''
  /** The status line and fixed headers of a 200, made once. */
  private readonly ok: string
  private takeOver: ((socket: Socket) => void) | undefined
  /** How long a head may take to arrive: Node's `headersTimeout` when it is shorter (attach). */
  private headMs: number
  /** The longest head read here: Node's `maxHeaderSize` when it is smaller than the lane's (attach). */
  private maxHead = MAX_HEAD_BYTES

  constructor(
    private readonly opts: FastLaneOptions,
    private readonly modules: FastLaneModules,
  ) {
    this.headMs = opts.requestTimeoutMs
    this.ok = this.statusLine(200)
  }

  /**
   * Puts the lane in front of `server`'s connections: Node's `connection` listener is replaced by
   * the lane's, which hands connections back to it. False (and nothing changed) if that listener
   * is not found — a Node whose http server is built differently: the server then works as before.
   */
  attach(server: Server): boolean {
    const node = server.listeners('connection').find((l) => l.name === 'connectionListener') as
      | ((this: Server, socket: Socket) => void)
      | undefined
    if (node === undefined) return false
    server.removeListener('connection', node)
    this.takeOver = (socket) => node.call(server, socket)
    server.on('connection', (socket: Socket) => this.accept(socket))
    // A head is bounded as Node bounds it (its headersTimeout, 0: none), a whole request by requestTimeoutMs.
    if (server.headersTimeout > 0) this.headMs = Math.min(server.headersTimeout, this.opts.requestTimeoutMs)
    // A head is no longer than Node takes (the server's maxHeaderSize, else the process's --max-http-header-size).
    const nodeMax = (server as Server & { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize
    this.maxHead = Math.min(MAX_HEAD_BYTES, nodeMax)
    // Requests that do not arrive in time: checked as often as Node checks its own connections.
    const every = Math.max(100, Math.min(30_000, Math.floor(this.headMs / 4)))
    this.sweep = setInterval(() => this.expire(), every)
    this.sweep.unref()
    return true
  }

  /** Ends every connection the lane holds (the server's close ends the others). */
  close(): void {
    clearInterval(this.sweep)
    for (const h of this.held) h.socket.destroy()
    this.held.clear()
  }

  /** Connections held now (tests, metrics). */
  get size(): number {
    return this.held.size
  }

  private accept(socket: Socket): void {
    // Refused as it arrived (the edge's connection cap listens first): nothing to read.
    if (socket.destroyed) return
    const h: Held = {
      socket,
      parts: [],
      size: 0,
      need: 0,
      scanned: 0,
      // A new connection is a request under way: one that sends nothing is a head that does not arrive (408).
      since: Date.now(),
      busy: false,
      ended: false,
      lastHead: undefined,
      lastPost: undefined,
      onData: () => {},
      onError: () => socket.destroy(),
      onEnd: () => {
        h.ended = true
        if (!h.busy) this.finish(h)
      },
    }
    h.onData = (chunk) => {
      h.parts.push(chunk)
      h.size += chunk.length
      if (h.since === 0) h.since = Date.now()
      if (h.busy) {
        // Pipelined bytes past one largest request wait in the kernel (TCP back-pressure).
        if (h.size > this.opts.bodyLimit + MAX_HEAD_BYTES) socket.pause()
        return
      }
      if (h.size >= h.need) this.next(h)
    }
    this.held.add(h)
    socket.setNoDelay(true)
    socket.setTimeout(this.opts.keepAliveMs, () => {
      // Idle (no request under way): close as Node closes an idle keep-alive connection.
      if (this.held.has(h) && !h.busy && h.size === 0) socket.destroy()
    })
    socket.on('data', h.onData)
    socket.on('error', h.onError)
    socket.on('end', h.onEnd)
    socket.once('close', () => this.held.delete(h))
  }

  /** Answers the requests buffered on `h` in order, until one is incomplete, busy or not the lane's. */
  private next(h: Held): void {
    for (;;) {
      if (h.socket.destroyed) return
      const buf = this.heldBytes(h)
      if (buf === null) {
        if (h.ended) this.finish(h)
        return
      }
      const post = this.scan(h, buf)
      if (post === 'incomplete') {
        h.scanned = buf.length
        if (h.ended) this.finish(h)
        return
      }
      if (post === null || post.bodyLength > this.opts.bodyLimit || !this.modules.admits(post, h.socket)) {
        this.handOver(h)
        return
      }
      const end = post.headLength + post.bodyLength
      if (buf.length < end) {
        h.need = end
        if (h.ended) this.finish(h)
        return
      }
      const body = buf.toString('utf8', post.headLength, end)
      h.parts = buf.length === end ? [] : [buf.subarray(end)]
      h.size = buf.length - end
      h.need = 0
      h.scanned = 0
      h.since = h.size === 0 ? 0 : Date.now()
      h.busy = true
      const answer = this.answerOf(post, body, h.socket)
      if (answer instanceof Promise) {
        answer.then((a) => {
          if (this.send(h, a)) this.resume(h)
        })
        return
      }
      // Answered now: on to the next request unless the client must read first.
      if (!this.send(h, answer)) return
      h.busy = false
      if (h.socket.isPaused()) h.socket.resume()
    }
  }

  /**
   * The head at the start of `buf`: the last one's scan when its bytes are the same (one memcmp,
   * where a scan splits and checks each header), else scanPlainPost's. The scan is a function of
   * the bytes alone, so a head scanned again finds what it found before; `admits` is still asked
   * each time (the connection cap and load shedding change).
   */
  private scan(h: Held, buf: Buffer): HeadScan {
    const last = h.lastHead
    if (last !== undefined && buf.length >= last.length && buf.compare(last, 0, last.length, 0, last.length) === 0) {
      return h.lastPost as PlainPost
    }
    const post = scanPlainPost(buf, this.maxHead, h.scanned)
    if (post !== null && post !== 'incomplete' && post.headLength <= REMEMBERED_HEAD) {
      h.lastHead = Buffer.from(buf.subarray(0, post.headLength))
      h.lastPost = post
    }
    return post
  }

  /** `modules.answer`, with a failure (a bug) answered 500 and logged. */
  private answerOf(post: PlainPost, body: string, socket: Socket): LaneAnswer | Promise<LaneAnswer> {
    const failed = (err: unknown): LaneAnswer => {
      this.modules.failed(err)
      return { status: 500, headers: '', body: INTERNAL }
    }
    try {
      const answer = this.modules.answer(post, body, socket)
      return isPromise(answer) ? Promise.resolve(answer).catch(failed) : answer
    } catch (err) {
      return failed(err)
    }
  }

  /**
   * The client ended its side and no answer is under way. The server's sockets are half-open capable
   * (Node's http server asks for it): with nothing held, end ours; with a request cut short, Node
   * gets it and the end, and refuses it as it would have (400, from llhttp's finish).
   */
  private finish(h: Held): void {
    if (h.size === 0) h.socket.end()
    else this.handOver(h)
  }

  /** Everything `h` holds as one buffer (null: nothing). */
  private heldBytes(h: Held): Buffer | null {
    if (h.parts.length === 0) return null
    if (h.parts.length > 1) h.parts = [Buffer.concat(h.parts, h.size)]
    return h.parts[0] as Buffer
  }

  /**
   * Writes `answer`. True when the socket took it (the next request may be read now); false when
   * the client must read first ('drain' resumes) or the socket is gone.
   */
  private send(h: Held, answer: LaneAnswer): boolean {
    const { socket } = h
    if (socket.destroyed) return false
    const start = answer.status === 200 ? this.ok : this.statusLine(answer.status)
    const text = `${start}${answer.headers}${LENGTH}${Buffer.byteLength(answer.body)}${this.tail()}${answer.body}`
    // Back-pressure: a client that does not read its answers gets no more read from it until it does.
    if (socket.write(text)) return true
    socket.once('drain', () => this.resume(h))
    return false
  }

  /** The answer is written: on to the next request. */
  private resume(h: Held): void {
    h.busy = false
    if (h.socket.isPaused()) h.socket.resume()
    this.next(h)
  }

  /** Gives the connection to Node's parser and Fastify, from the request at the start of its buffer on. */
  private handOver(h: Held): void {
    const { socket } = h
    this.held.delete(h)
    this.modules.handedOver()
    socket.removeListener('data', h.onData)
    socket.removeListener('error', h.onError)
    socket.removeListener('end', h.onEnd)
    socket.setTimeout(0)
    socket.removeAllListeners('timeout')
    const held = this.heldBytes(h)
    ;(this.takeOver as (socket: Socket) => void)(socket)
    // Node's parser reads new bytes from the socket itself from now on; the held ones first (a
    // paused socket's own buffer follows them on the next tick).
    if (held !== null) socket.emit('data', held)
    // The client ended its side while the lane held the connection (its 'end' came to the lane):
    // Node learns it too, as it would have itself — it refuses a request cut short, or ends its
    // side — instead of keeping the half-open connection until its keep-alive timeout.
    if (h.ended) socket.emit('end')
    if (socket.isPaused()) socket.resume()
  }

  /** 408 and close for each head still arriving after Node's headersTimeout, each request after `requestTimeoutMs`. */
  private expire(): void {
    const now = Date.now()
    for (const h of this.held) {
      // Not busy and no body awaited (`need`): its head is what is still arriving.
      const limit = h.need === 0 ? this.headMs : this.opts.requestTimeoutMs
      if (h.since === 0 || h.busy || now - h.since < limit) continue
      this.held.delete(h)
      h.socket.removeListener('data', h.onData)
      endLingering(h.socket, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n')
    }
  }

  /** An answer's status line and the fixed headers. */
  private statusLine(status: number): string {
    return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${this.opts.fixedHeaders}`
  }

  /**
   * What follows the content length: the Date header, keep-alive, the blank line. Made when first
   * needed in a second and dropped at the second's end by a timer, as Node's own Date is (no clock
   * read per answer).
   */
  private tail(): string {
    if (this.dateTail !== '') return this.dateTail
    const now = Date.now()
    this.dateTail =
      `\r\nDate: ${new Date(now).toUTCString()}\r\nConnection: keep-alive\r\n` +
      `Keep-Alive: timeout=${Math.floor(this.opts.keepAliveMs / 1000)}\r\n\r\n`
    setTimeout(
      () => {
        this.dateTail = ''
      },
      1000 - (now % 1000),
    ).unref()
    return this.dateTail
  }
}
