import type { HeadSeq } from './messages.ts'

/** What a `head` message names (messages.ts). */
export interface NamedHead {
  hash: string
  clear: boolean
  edits: boolean
  seq?: number
}

/**
 * A read thread's head: the one the main thread named last, applied lazily — when a request needs
 * it, not per message — so a burst of blocks costs the thread one block read, not one per block
 * (under a transfer load the main thread seals tens of blocks a second). With a listener of its
 * own the thread also waits, before answering, for the head message of the latest number in the
 * shared {@link HeadSeq} (the main thread bumps it before its head can be seen to have moved).
 */
export class ThreadHead {
  private wanted: Omit<NamedHead, 'seq'> | null = null
  /** The highest sequence number named so far. */
  private received = 0
  private applying: Promise<void> | null = null
  private waiters: (() => void)[] = []

  constructor(
    private readonly apply: (hash: string, clear: boolean, edits: boolean) => Promise<void>,
    private readonly seq: HeadSeq | null,
  ) {}

  /** A head message: remembered (its cache-clearing and edit re-reading kept until applied). */
  named(m: NamedHead): void {
    const w = this.wanted
    this.wanted = { hash: m.hash, clear: (w?.clear ?? false) || m.clear, edits: (w?.edits ?? false) || m.edits }
    if (m.seq !== undefined && m.seq > this.received) this.received = m.seq
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  /**
   * Resolves once the thread is at the main thread's latest head; undefined (nothing to wait for)
   * when it already is. Rejects when the named head cannot be read.
   */
  ready(): Promise<void> | undefined {
    if (this.seq && this.seq.get() > this.received) {
      return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.ready())
    }
    if (this.applying) return this.applying.then(() => this.ready())
    const w = this.wanted
    if (!w) return undefined
    this.wanted = null
    const applying = this.apply(w.hash, w.clear, w.edits).finally(() => {
      if (this.applying === applying) this.applying = null
    })
    this.applying = applying
    return applying.then(() => this.ready())
  }
}
