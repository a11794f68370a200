import { readFile, rename, writeFile } from 'node:fs/promises'
import { bytesToHex, CairnError, errorMessage, hexToBytes, type Logger } from '@cairn/utils'
import { createTxFromRLP, type TxOptions, type TypedTransaction } from '@ethereumjs/tx'
import type { TxPool } from './pool.ts'

export interface TxJournalOptions {
  /** The journal file (`<datadir>/txpool.journal`). */
  path: string
  /** Seconds between rewrites of the journal while running (geth's Rejournal: 1 h); 0 = only on stop. */
  rejournal: number
}

export interface TxJournalModules {
  pool: Pick<TxPool, 'locals' | 'add'>
  /** The chain's Common: transactions are decoded for its chain id and hardfork. */
  common: NonNullable<TxOptions['common']>
  logger: Logger
}

export interface JournalLoadResult {
  /** Transactions read back and admitted again. */
  loaded: number
  /** Lines that could not be decoded, and transactions the pool refused on the current head. */
  undecodable: number
  refused: number
}

const HEADER = '# cairn txpool journal v1'

/**
 * The journal of locally submitted transactions, so they survive a restart (geth's
 * `transactions.rlp`): one hex-encoded transaction per line, rewritten whole (temp file + rename,
 * so a crash leaves the old or the new journal, never half of one) on `stop()` and every
 * `rejournal` seconds; read back and revalidated through `pool.add` at start, where transactions
 * that have been mined, or can no longer pay, are refused and forgotten. A truncated last line is
 * skipped.
 */
export class TxJournal {
  private timer: ReturnType<typeof setInterval> | undefined
  private writing: Promise<void> = Promise.resolve()

  constructor(
    readonly opts: TxJournalOptions,
    private readonly modules: TxJournalModules,
  ) {}

  /** Reads the journal (if any) and re-adds its transactions to the pool, in file order. */
  async load(): Promise<JournalLoadResult> {
    const result: JournalLoadResult = { loaded: 0, undecodable: 0, refused: 0 }
    let text: string
    try {
      text = await readFile(this.opts.path, 'utf8')
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return result
      throw new CairnError('TXPOOL_JOURNAL_UNREADABLE', `cannot read the txpool journal ${this.opts.path}`, {
        fault: 'caller',
        cause: err,
        hint: 'fix its permissions, or delete it to start with an empty pool',
      })
    }
    for (const line of text.split('\n')) {
      const hex = line.trim()
      if (hex === '' || hex.startsWith('#')) continue
      let tx: TypedTransaction
      try {
        tx = createTxFromRLP(hexToBytes(hex), { common: this.modules.common })
      } catch {
        result.undecodable++
        continue
      }
      try {
        await this.modules.pool.add(tx, { local: true })
        result.loaded++
      } catch {
        result.refused++
      }
    }
    this.modules.logger.info({ path: this.opts.path, ...result }, 'txpool journal loaded')
    return result
  }

  /** Rewrites the journal with the pool's local transactions now. */
  write(): Promise<void> {
    const run = this.writing.then(() => this.writeNow())
    this.writing = run.catch(() => {})
    return run
  }

  /** Starts the periodic rewrite. */
  start(): void {
    if (this.timer || this.opts.rejournal <= 0) return
    this.timer = setInterval(() => {
      this.write().catch((err) => this.modules.logger.warn({ err: errorMessage(err) }, 'txpool journal write failed'))
    }, this.opts.rejournal * 1000)
    this.timer.unref?.()
  }

  /** Stops the timer and writes the journal one last time. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.write()
  }

  private async writeNow(): Promise<void> {
    const txs = this.modules.pool.locals()
    const body = [HEADER, ...txs.map((tx) => bytesToHex(tx.serialize()))].join('\n')
    const tmp = `${this.opts.path}.tmp`
    await writeFile(tmp, `${body}\n`, { mode: 0o600 })
    await rename(tmp, this.opts.path)
    this.modules.logger.debug({ path: this.opts.path, transactions: txs.length }, 'txpool journal written')
  }
}
