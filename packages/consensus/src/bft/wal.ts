/**
 * The consensus write-ahead log: every event the state machine receives (messages, timeouts,
 * validity, its own signed proposals and votes handed back to it), appended before the machine
 * acts on it, so a restarted validator replays the log of its height into a fresh machine and is
 * back in the round, step and lock it was in. The machine is deterministic (same events, same
 * state), so the log is all it needs. Double-sign protection does not rest on the WAL (the signer
 * state refuses a conflicting signature even with the WAL lost); the WAL is what lets the validator
 * rejoin where it was instead of sitting out the height.
 *
 * Layout: one segment per height (`<dir>/<height, 12 digits>.wal`), a record in the segment of the
 * height its event is for (a message for the next height, received early, goes to that height's
 * segment: the machine replays it when the height starts). Dropping decided heights is deleting
 * segments (`truncateBelow`).
 *
 * A record is `length ‖ crc32(length) ‖ crc32(payload) ‖ payload` (u32 big-endian each), the
 * payload the RLP of the event (`encodeWalEvent`). On opening, a segment's last record cut short or
 * failing its checksum (or a tail of zeros) is a write torn by a crash: it is cut off (the segment
 * truncated to the last whole record). Anything else bad — a length failing its own checksum, a bad
 * record followed by more records — is damage, not a torn write: the WAL refuses it
 * (`CONSENSUS_BFT_WAL_CORRUPT`) rather than guess. (The length's own checksum is what tells a
 * damaged length from a record cut short.)
 *
 * Durability: `append` writes through to the OS (it survives the process being killed); with
 * `{ sync: true }` it also fsyncs (it survives the machine losing power). The driver appends its own
 * signed proposals and votes with `sync: true` before they leave the node, as CometBFT's WAL
 * `WriteSync` does for a validator's own messages.
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { CairnError, errorMessage } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import { decodeCertificate, encodeCertificate } from './certificate.ts'
import type { BftEvent } from './events.ts'
import { MsgType, type SignedVote } from './messages.ts'
import type { SignatureScheme } from './pq/scheme.ts'
import type { TimeoutStep } from './timeouts.ts'

/** The height an event is for (the segment it goes to). */
export function eventHeight(e: BftEvent): number {
  switch (e.kind) {
    case 'proposal':
      return e.proposal.height
    case 'vote':
      return e.vote.height
    case 'timeout':
      return e.timeout.height
    case 'certificate':
      return e.certificate.height
    default:
      return e.height
  }
}

// ---------------------------------------------------------------------------------------------
// Record payloads: RLP of the event, tagged by kind
// ---------------------------------------------------------------------------------------------

const TAG = { proposal: 1, vote: 2, timeout: 3, validity: 4, proposalBlock: 5, certificate: 6 } as const
const STEPS: readonly TimeoutStep[] = ['propose', 'prevote', 'precommit', 'commit']
const EMPTY = new Uint8Array(0)

/** The RLP payload of an event. */
export function encodeWalEvent(e: BftEvent): Uint8Array {
  switch (e.kind) {
    case 'proposal': {
      const p = e.proposal
      // polRound is -1 or more: stored plus one (RLP integers are unsigned).
      // Under ml-dsa-65 the signer's address follows the signature (an ML-DSA signature names no one).
      const fields = [TAG.proposal, p.height, p.round, p.polRound + 1, p.blockHash, p.block, p.signature]
      return RLP.encode(p.validator === undefined ? fields : [...fields, p.validator])
    }
    case 'vote': {
      const v = e.vote
      const fields = [TAG.vote, v.type, v.height, v.round, v.blockHash ?? EMPTY, v.signature]
      return RLP.encode(v.validator === undefined ? fields : [...fields, v.validator])
    }
    case 'timeout': {
      const t = e.timeout
      return RLP.encode([TAG.timeout, STEPS.indexOf(t.step), t.height, t.round])
    }
    case 'validity':
      return RLP.encode([TAG.validity, e.height, e.blockHash, e.valid ? 1 : 0])
    case 'proposalBlock':
      return RLP.encode([TAG.proposalBlock, e.height, e.round, e.blockHash, e.block])
    case 'certificate':
      return RLP.encode([TAG.certificate, encodeCertificate(e.certificate), e.block])
  }
}

/**
 * An event from its RLP payload.
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` (fault 'internal': the WAL is our own file)
 */
export function decodeWalEvent(bytes: Uint8Array, scheme: SignatureScheme = 'secp256k1'): BftEvent {
  const bad = (why: string, cause?: unknown): CairnError =>
    new CairnError(ConsensusErrorCode.BFT_MALFORMED, `WAL record: ${why}`, { fault: 'internal', cause })
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw bad('not RLP', err)
  }
  if (!Array.isArray(d) || d.length === 0) throw bad('not a list')
  const items = d as unknown[]
  const bytesAt = (i: number): Uint8Array => {
    const x = items[i]
    if (!(x instanceof Uint8Array)) throw bad(`item ${i} is not bytes`)
    return x
  }
  const num = (i: number): number => {
    const x = bytesAt(i)
    if (x.length > 6) throw bad(`item ${i} is not a safe integer`)
    let n = 0
    for (const byte of x) n = n * 256 + byte
    return n
  }
  const hash = (i: number): Uint8Array => {
    const x = bytesAt(i)
    if (x.length !== 32) throw bad(`item ${i} is not a 32-byte hash`)
    return x
  }
  const address = (i: number): Uint8Array => {
    const x = bytesAt(i)
    if (x.length !== 20) throw bad(`item ${i} is not a 20-byte address`)
    return x
  }
  // Under ml-dsa-65 a proposal or a vote names its signer in one more item.
  const named = scheme === 'ml-dsa-65' ? 1 : 0
  const tag = num(0)
  switch (tag) {
    case TAG.proposal:
      if (items.length !== 7 + named) break
      return {
        kind: 'proposal',
        proposal: {
          height: num(1),
          round: num(2),
          polRound: num(3) - 1,
          blockHash: hash(4),
          block: bytesAt(5),
          signature: bytesAt(6),
          ...(named === 1 ? { validator: address(7) } : {}),
        },
      }
    case TAG.vote: {
      if (items.length !== 6 + named) break
      const type = num(1)
      if (type !== MsgType.PREVOTE && type !== MsgType.PRECOMMIT) throw bad(`unknown vote type ${type}`)
      const h = bytesAt(4)
      const vote: SignedVote = {
        type,
        height: num(2),
        round: num(3),
        blockHash: h.length === 0 ? null : hash(4),
        signature: bytesAt(5),
        ...(named === 1 ? { validator: address(6) } : {}),
      }
      return { kind: 'vote', vote }
    }
    case TAG.timeout: {
      if (items.length !== 4) break
      const step = STEPS[num(1)]
      if (step === undefined) throw bad('unknown timeout step')
      return { kind: 'timeout', timeout: { step, height: num(2), round: num(3) } }
    }
    case TAG.validity:
      if (items.length !== 4) break
      return { kind: 'validity', height: num(1), blockHash: hash(2), valid: num(3) === 1 }
    case TAG.proposalBlock:
      if (items.length !== 5) break
      return { kind: 'proposalBlock', height: num(1), round: num(2), blockHash: hash(3), block: bytesAt(4) }
    case TAG.certificate:
      if (items.length !== 3) break
      try {
        return { kind: 'certificate', certificate: decodeCertificate(bytesAt(1), scheme), block: bytesAt(2) }
      } catch (err) {
        throw bad(`bad certificate: ${errorMessage(err)}`, err)
      }
    default:
      throw bad(`unknown record tag ${tag}`)
  }
  throw bad(`record tag ${tag} with ${items.length} items`)
}

/** The record header: length, the length's own checksum, the payload's checksum (u32 big-endian each). */
const HEADER = 12

function lengthCheck(length: number): number {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, length)
  return crc32(b)
}

/** One framed record: length ‖ crc32(length) ‖ crc32(payload) ‖ payload. */
export function frameWalRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, payload.length)
  view.setUint32(4, lengthCheck(payload.length))
  view.setUint32(8, crc32(payload))
  out.set(payload, HEADER)
  return out
}

/** Records larger than this are not ours (a block is at most a few MB). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024

function corrupt(where: string, at: number, why: string): CairnError {
  return new CairnError(
    ConsensusErrorCode.BFT_WAL_CORRUPT,
    `consensus WAL ${where}: the record at byte ${at} ${why} and is not a write torn by a crash`,
    {
      fault: 'internal',
      hint: 'the disk or the file was damaged; move the WAL directory aside to start the height afresh — the signer state still prevents a double sign',
    },
  )
}

/**
 * The whole records of a segment and where they end. A torn tail ends the records: fewer bytes
 * than a header, a record whose (checked) length runs past the end, the last record failing its
 * payload checksum, or only zero bytes (a file the filesystem extended before the data landed).
 * Anything else bad — a length failing its own checksum, a record failing its checksum with more
 * records after it — is damage, and throws.
 * @throws CairnError `CONSENSUS_BFT_WAL_CORRUPT`
 */
export function parseWalSegment(
  bytes: Uint8Array,
  where: string,
): { payloads: Uint8Array[]; validLength: number; torn: boolean } {
  const payloads: Uint8Array[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const torn = (at: number) => ({ payloads, validLength: at, torn: true })
  let at = 0
  while (at < bytes.length) {
    if (bytes.length - at < HEADER) return torn(at)
    const length = view.getUint32(at)
    if (view.getUint32(at + 4) !== lengthCheck(length)) {
      if (bytes.subarray(at).every((b) => b === 0)) return torn(at)
      throw corrupt(where, at, 'has a damaged length')
    }
    if (length > MAX_RECORD_BYTES) throw corrupt(where, at, `claims ${length} bytes`)
    const end = at + HEADER + length
    if (end > bytes.length) return torn(at) // the last record, cut short
    const payload = bytes.subarray(at + HEADER, end)
    if (crc32(payload) !== view.getUint32(at + 8)) {
      if (end === bytes.length) return torn(at)
      throw corrupt(where, at, 'fails its checksum')
    }
    payloads.push(payload)
    at = end
  }
  return { payloads, validLength: at, torn: false }
}

// ---------------------------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------------------------

/** Where segments live: files (`FileWalStorage`) or memory (`MemoryWalStorage`, the simulator and tests). */
export interface WalStorage {
  /** The heights that have a segment, ascending. */
  heights(): number[]
  /** A segment's bytes (empty when absent). */
  read(height: number): Uint8Array
  /** Appends bytes to a segment (creating it); with `sync`, durable before returning. */
  append(height: number, bytes: Uint8Array, sync: boolean): void
  /** Cuts a segment to `length` bytes, durably. */
  truncate(height: number, length: number): void
  /** Deletes a segment. */
  remove(height: number): void
  close(): void
}

export class MemoryWalStorage implements WalStorage {
  readonly #segments = new Map<number, Uint8Array[]>()

  heights(): number[] {
    return [...this.#segments.keys()].sort((a, b) => a - b)
  }

  read(height: number): Uint8Array {
    const parts = this.#segments.get(height) ?? []
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }

  append(height: number, bytes: Uint8Array): void {
    let s = this.#segments.get(height)
    if (s === undefined) {
      s = []
      this.#segments.set(height, s)
    }
    s.push(bytes.slice())
  }

  truncate(height: number, length: number): void {
    const all = this.read(height).subarray(0, length)
    this.#segments.set(height, [all])
  }

  remove(height: number): void {
    this.#segments.delete(height)
  }

  /** Test hook: cuts `bytes` off the end of a segment (default the highest), as a crash mid-write would. */
  tear(bytes: number, height?: number): void {
    const h = height ?? this.heights().at(-1)
    if (h === undefined || !this.#segments.has(h)) return
    const all = this.read(h)
    this.#segments.set(h, [all.subarray(0, Math.max(0, all.length - bytes))])
  }

  close(): void {}
}

function unusable(message: string, path: string, cause?: unknown): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_WAL_UNUSABLE, `consensus WAL ${path}: ${message}`, {
    fault: 'internal',
    cause,
  })
}

const SEGMENT = /^(\d{12})\.wal$/

export class FileWalStorage implements WalStorage {
  readonly dir: string
  /** Open append descriptors, by height (at most a few: the current height and the next). */
  readonly #fds = new Map<number, number>()

  /** @throws CairnError `CONSENSUS_BFT_WAL_UNUSABLE` when the directory cannot be created */
  constructor(opts: { dir: string }) {
    this.dir = opts.dir
    try {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw unusable(`cannot create the directory: ${errorMessage(err)}`, opts.dir, err)
    }
  }

  #path(height: number): string {
    return join(this.dir, `${String(height).padStart(12, '0')}.wal`)
  }

  heights(): number[] {
    try {
      return readdirSync(this.dir)
        .map((f) => SEGMENT.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b)
    } catch (err) {
      throw unusable(`cannot list: ${errorMessage(err)}`, this.dir, err)
    }
  }

  read(height: number): Uint8Array {
    try {
      return new Uint8Array(readFileSync(this.#path(height)))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
      throw unusable(`cannot read: ${errorMessage(err)}`, this.#path(height), err)
    }
  }

  #fd(height: number): number {
    let fd = this.#fds.get(height)
    if (fd === undefined) {
      fd = openSync(this.#path(height), 'a', 0o600)
      this.#fds.set(height, fd)
      this.#syncDir()
    }
    return fd
  }

  append(height: number, bytes: Uint8Array, sync: boolean): void {
    try {
      const fd = this.#fd(height)
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
      if (sync) fsyncSync(fd)
    } catch (err) {
      throw unusable(`cannot append: ${errorMessage(err)}`, this.#path(height), err)
    }
  }

  truncate(height: number, length: number): void {
    try {
      const fd = openSync(this.#path(height), 'r+')
      try {
        ftruncateSync(fd, length)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      throw unusable(`cannot truncate: ${errorMessage(err)}`, this.#path(height), err)
    }
  }

  remove(height: number): void {
    const fd = this.#fds.get(height)
    if (fd !== undefined) {
      closeSync(fd)
      this.#fds.delete(height)
    }
    try {
      rmSync(this.#path(height), { force: true })
      this.#syncDir()
    } catch (err) {
      throw unusable(`cannot remove: ${errorMessage(err)}`, this.#path(height), err)
    }
  }

  #syncDir(): void {
    const dir = openSync(this.dir, 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd)
    this.#fds.clear()
  }
}

// ---------------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------------

export interface ConsensusWalModules {
  storage: WalStorage
}

/** What `replay` found besides the events: whether it cut off a torn last record. */
export interface WalReplay {
  events: BftEvent[]
  /** True when the segment ended in a torn record, now truncated away. */
  truncatedTornRecord: boolean
}

/**
 * The consensus WAL. The driver's loop:
 *
 * - at start, `truncateBelow(height)` and `replay(height)` (height = last committed + 1), and hand
 *   the events to a fresh machine after `start()`, without appending them again. Own proposals and
 *   votes found among them are not signed again when the machine asks (their records hand them to
 *   the machine; the signer state only moves forward and would refuse all but the last); anything
 *   else it asks for is signed as usual (one signed just before the crash but not yet logged gets
 *   the same signature: the signer state answers "again"). Then re-send the height's own messages;
 * - for every event from then on, `append(event)` before `machine.handle(event)`; for its own signed
 *   proposal or vote, `append(event, { sync: true })` before sending it;
 * - after persisting a commit of height H, `truncateBelow(H + 1)`.
 */
export class ConsensusWal {
  readonly #storage: WalStorage
  readonly #scheme: SignatureScheme

  /**
   * Checks every segment's tail: a torn last record (a crash mid-append, in any segment being
   * written: the current height's or the next one's) is cut off now, before anything is appended
   * after it.
   * @throws CairnError `CONSENSUS_BFT_WAL_CORRUPT` when a segment is damaged before its last record
   */
  /** @param opts.scheme the chain's consensus signature scheme (certificate records' signatures) */
  constructor(opts: { scheme?: SignatureScheme }, modules: ConsensusWalModules) {
    this.#scheme = opts.scheme ?? 'secp256k1'
    this.#storage = modules.storage
    for (const h of this.#storage.heights()) this.#repair(h)
  }

  #repair(height: number): { payloads: Uint8Array[]; torn: boolean } {
    const { payloads, validLength, torn } = parseWalSegment(this.#storage.read(height), `height ${height}`)
    if (torn) this.#storage.truncate(height, validLength)
    return { payloads, torn }
  }

  /**
   * The WAL in the directory `opts.dir` (created when absent).
   * @throws CairnError `CONSENSUS_BFT_WAL_UNUSABLE`
   */
  static open(opts: { dir: string; scheme?: SignatureScheme }): ConsensusWal {
    const { dir, ...rest } = opts
    return new ConsensusWal(rest, { storage: new FileWalStorage({ dir }) })
  }

  /** A WAL in memory (tests, the simulator). */
  static inMemory(storage: WalStorage = new MemoryWalStorage(), scheme?: SignatureScheme): ConsensusWal {
    return new ConsensusWal(scheme === undefined ? {} : { scheme }, { storage })
  }

  /**
   * Appends an event to its height's segment. `sync`: fsync before returning (own signed messages).
   * @throws CairnError `CONSENSUS_BFT_WAL_UNUSABLE` when the write fails (stop the validator: it must
   *   not act on what it could not log)
   */
  append(event: BftEvent, opts: { sync?: boolean } = {}): void {
    this.#storage.append(eventHeight(event), frameWalRecord(encodeWalEvent(event)), opts.sync === true)
  }

  /**
   * The events logged for `height`, in order. A torn last record is truncated away.
   * @throws CairnError `CONSENSUS_BFT_WAL_CORRUPT` on a bad record before the last one,
   *   `CONSENSUS_BFT_MALFORMED` on a whole record that does not decode
   */
  replay(height: number): BftEvent[] {
    return this.replayDetailed(height).events
  }

  /** `replay`, also telling whether a torn record was cut off. */
  replayDetailed(height: number): WalReplay {
    const { payloads, torn } = this.#repair(height)
    return { events: payloads.map((p) => decodeWalEvent(p, this.#scheme)), truncatedTornRecord: torn }
  }

  /** Deletes the segments of every height below `height` (decided heights). */
  truncateBelow(height: number): void {
    for (const h of this.#storage.heights()) if (h < height) this.#storage.remove(h)
  }

  /** The heights with a segment, ascending. */
  heights(): number[] {
    return this.#storage.heights()
  }

  close(): void {
    this.#storage.close()
  }
}
