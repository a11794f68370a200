import { CairnError } from '@cairn/utils'
import type { RpcLimits } from './context.ts'
import { RpcErrorCode } from './errors.ts'
import { methodWeight } from './method-table.ts'
import { isPromise } from './promise.ts'
import { type JsonRpcResponse, responseText } from './response-text.ts'

type Response = JsonRpcResponse | undefined

/** What a batch runs its entries with: the dispatcher's own handling of one request. */
export interface BatchModules {
  /** Runs one entry: its response (undefined for a notification), now or as a promise. */
  run(entry: unknown): Response | PromiseLike<Response>
  /** The answer to an entry that is not run, or whose answer is not sent, carrying `err`. */
  refuse(entry: unknown, err: CairnError): Response
  /** The clock of the time budget (ms). */
  now(): number
}

/**
 * Rate-limit weight of the entries of a batch in flight at once: 100 sends (a whole batch of them,
 * as clients send them: measured, windows of 32 cut transfers/s by a quarter), ten eth_getLogs,
 * five traces.
 */
export const BATCH_WINDOW_WEIGHT = 100

/** How long a batch may hold the event loop before it lets others (/health, sealing) in. */
const HOLD_MS = 1

/**
 * Runs a batch's entries in order and answers them as one array, within its budgets (geth's):
 *
 * - **Response size**: each answer is serialized when it is produced and charged, in entry order,
 *   against `batchResponseLimit` bytes. The first answer that would take the response past the
 *   limit is not sent: it and every entry after it answer -32003 "response too large", and no
 *   entry starts once that is known. The answers sent with the array's brackets and commas are
 *   never more than the limit; each refused entry adds its own short error (~60 bytes) on top.
 * - **Time**: an entry not yet started when the batch has run `batchTimeLimitMs` answers -32002.
 *
 * Entries run in windows of at most {@link BATCH_WINDOW_WEIGHT} rate-limit weight. Cheap entries
 * (weight 1: sends, reads) of a window start together (sends share sender recovery and journal
 * syncs). A heavier entry (calls, logs, traces) starts only when the one before it has answered
 * or is waiting for I/O, so heavy entries whose work holds the event loop run one at a time, each
 * charged before the next starts, and ones that wait for the disk still overlap. After an entry
 * that leaves the loop held for {@link HOLD_MS} or more the batch yields two turns of it: /health,
 * /ready, other requests and sealing wait behind an entry or two, never a window. (Cheap entries
 * in flight together are not split: a window of them yields when it ends.)
 */
export async function runBatch(
  entries: readonly unknown[],
  limits: Pick<RpcLimits, 'batchResponseLimit' | 'batchTimeLimitMs'>,
  modules: BatchModules,
): Promise<string | undefined> {
  const { batchTimeLimitMs } = limits
  const answers = new Answers(entries, limits.batchResponseLimit, modules)
  const started = modules.now()
  let timedOut: CairnError | undefined
  let turnAt = performance.now()
  const yieldIfHeld = async () => {
    if (performance.now() - turnAt < HOLD_MS) return
    // Two turns: a connection accepted in the first (a /health probe) has its request read and
    // answered in the second, not one entry later.
    await nextTurn()
    await nextTurn()
    turnAt = performance.now()
  }
  for (let i = 0; i < entries.length; ) {
    const window: PromiseLike<void>[] = []
    let weight = 0
    while (i < entries.length) {
      const w = methodWeight(methodOf(entries[i]))
      if (weight > 0 && weight + w > BATCH_WINDOW_WEIGHT) break
      const k = i++
      if (timedOut === undefined && modules.now() - started >= batchTimeLimitMs) {
        timedOut = new CairnError(RpcErrorCode.TIMEOUT, 'request timed out', {
          fault: 'caller',
          hint: `a batch may execute for ${batchTimeLimitMs / 1000}s; send fewer or cheaper calls per batch`,
        })
      }
      const refusal = answers.tooLarge ?? timedOut
      if (refusal !== undefined) {
        answers.refused(k, refusal)
        continue
      }
      weight += w
      const res = modules.run(entries[k])
      if (!isPromise(res)) {
        answers.answered(k, res)
        // (Not while cheap entries wait: sends started together are recovered together.)
        if (w > 1 || window.length === 0) await yieldIfHeld()
        continue
      }
      const answered = res.then((r) => answers.answered(k, r))
      window.push(answered)
      // Awaited below (Promise.all); this only keeps a failure from rejecting unhandled meanwhile.
      answered.then(undefined, () => {})
      if (w > 1) {
        // A heavy entry runs alone while its work holds the loop (promises it awaits that are
        // already resolved); once it waits for I/O (a turn of the loop passes) the next may start.
        const turned = await Promise.race([answered.then(() => false), nextTurn().then(() => true)])
        if (turned) turnAt = performance.now()
        else await yieldIfHeld()
      }
    }
    await Promise.all(window)
    if (i < entries.length) await yieldIfHeld()
  }
  return answers.text()
}

/** The answers of a batch, charged in entry order against the response limit. */
class Answers {
  /** Each entry's text once final (undefined: a notification, or not answered yet). */
  private readonly texts: (string | undefined)[]
  /** Entries whose answer (or refusal) is in, charged or not. */
  private readonly done: boolean[]
  /** Entries refused without running: their errors are not charged. */
  private readonly notRun: boolean[]
  /** Entries [0, charged) are final. */
  private charged = 0
  /** Bytes of the response so far without the refusals: brackets, charged answers, commas. */
  private bytes = 2
  private sent = 0
  /** Set once an answer did not fit: everything from it on answers this. */
  tooLarge: CairnError | undefined

  constructor(
    private readonly entries: readonly unknown[],
    private readonly limit: number,
    private readonly modules: BatchModules,
  ) {
    this.texts = new Array(entries.length)
    this.done = new Array(entries.length).fill(false)
    this.notRun = new Array(entries.length).fill(false)
  }

  /** An entry's response, serialized now (its objects can go) and charged when its turn comes. */
  answered(k: number, res: Response): void {
    this.texts[k] = res === undefined ? undefined : responseText(res)
    this.done[k] = true
    this.charge()
  }

  refused(k: number, err: CairnError): void {
    const res = this.modules.refuse(this.entries[k], err)
    this.texts[k] = res === undefined ? undefined : JSON.stringify(res)
    this.done[k] = true
    this.notRun[k] = true
    this.charge()
  }

  private charge(): void {
    while (this.charged < this.entries.length && this.done[this.charged]) {
      const k = this.charged++
      const text = this.texts[k]
      if (text === undefined || this.notRun[k]) continue
      if (this.tooLarge === undefined) {
        const size = Buffer.byteLength(text) + (this.sent > 0 ? 1 : 0)
        if (this.bytes + size <= this.limit) {
          this.bytes += size
          this.sent++
          continue
        }
        this.tooLarge = new CairnError(RpcErrorCode.RESPONSE_TOO_LARGE, 'response too large', {
          fault: 'caller',
          hint: `a batch's answers may total ${this.limit} bytes; split the batch`,
        })
      }
      const res = this.modules.refuse(this.entries[k], this.tooLarge)
      this.texts[k] = res === undefined ? undefined : JSON.stringify(res)
    }
  }

  /** The batch's response: the array of its answers, or undefined when all were notifications. */
  text(): string | undefined {
    const parts = this.texts.filter((t): t is string => t !== undefined)
    return parts.length === 0 ? undefined : `[${parts.join(',')}]`
  }
}

function methodOf(entry: unknown): string {
  const m = (entry as { method?: unknown } | null)?.method
  return typeof m === 'string' ? m : ''
}

/** Lets timers and I/O callbacks (other requests, /health, sealing) run before the batch goes on. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
