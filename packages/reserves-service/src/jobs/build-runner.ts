// Runs snapshot builds: claims jobs from the shared queue (jobs.ts), builds each on a build
// thread (build-thread.ts) while this thread only stores what it is sent in short statements, and
// keeps the job's lease alive meanwhile. Any number of runners (in API instances, or in worker
// instances: `cairn reserves serve` without `--no-build`) can share one PostgreSQL; a job is built by one of them.
import type { Worker } from 'node:worker_threads'
import { ReservesErrorCode } from '@cairn/reserves'
import type { Currency, HashName } from '@cairn/reserves/verifier'
import type { TraceCarrier, Tracer } from '@cairn/service-kit'
import { CairnError, type Logger, startWorker } from '@cairn/utils'
import type { AtRestKey } from '../kernel/at-rest.ts'
import { appendAudit } from '../kernel/audit.ts'
import {
  analyzeBuilt,
  type ChainPlace,
  insertNodes,
  markRemoved,
  occupancy,
  placeOf,
  readNodes,
  storeOccupancy,
  usersByKey,
} from '../kernel/chain.ts'
import type { ReservesMetrics } from '../kernel/metrics.ts'
import { recordEvent } from '../kernel/outbox.ts'
import type { Sql } from '../kernel/sql.ts'
import { LEVEL_CHUNK, type SnapshotStore } from '../kernel/store.ts'
import { dropInput, loadInput, transferList } from './build-input.ts'
import type { BuildRequest, BuildThreadMessage, BuildThreadReply, UpdateRequest } from './build-thread-protocol.ts'
import { type BuildJobs, type ClaimedJob, leaseLost } from './jobs.ts'

export interface BuildRunnerOptions {
  /** This runner's name in leases (host:pid:random). */
  owner: string
  /** How long a lease lasts without renewal; renewed every third of it. */
  leaseMs: number
  /** How often an idle runner looks for a job (it is also woken when one is queued here or notified). */
  pollMs: number
  /**
   * With a queue handing jobs out (nats-builds.ts): polling takes only jobs due (or whose lease ran
   * out) this long ago, those the queue left behind (default 0: every claimable job).
   */
  pollGraceMs?: number
  /** First retry delay; doubled per attempt. */
  retryBaseMs: number
  /** Users per INSERT. */
  userBatch: number
}

export const DEFAULT_RUNNER: Omit<BuildRunnerOptions, 'owner'> = {
  leaseMs: 30_000,
  pollMs: 1_000,
  retryBaseMs: 2_000,
  userBatch: 250,
}

/** Errors a retry cannot cure: the input itself is refused. */
const FINAL = new Set<string>([
  ReservesErrorCode.INPUT_INVALID,
  ReservesErrorCode.DUPLICATE_USER,
  ReservesErrorCode.OVERFLOW,
  ReservesErrorCode.BAD_OPTIONS,
])

/** How an attempt ended: `retryMs` when it is queued again after that delay. */
export type AttemptOutcome =
  | { outcome: 'built' | 'failed' | 'abandoned' | 'released' }
  | { outcome: 'retried'; retryMs: number }

/** What `runById` did: an attempt, or nothing (`wait` ms until the job may be claimable; `gone`: nothing to build). */
export type RunByIdOutcome = AttemptOutcome | { outcome: 'wait'; waitMs: number } | { outcome: 'gone' }

/** What a build thread answers when done. */
type Built = { depth: number; rootHash: string; totals: string[]; users: number; levelChunk?: number }

/** A build thread that broke the protocol (a bug, not the input). */
const threadError = (message: string) => new CairnError(ReservesErrorCode.BUILD_FAILED, message, { fault: 'internal' })

/** Where an incremental build reads its base from and writes its rows to. */
interface ChainTarget {
  place: ChainPlace
  base: { id: string; place: ChainPlace; depth: number; levelChunk: number; k: number }
}

export interface BuiltEvent {
  id: string
  root: { hash: string; balances: string[] }
}

export class BuildRunner {
  private stopped = false
  private loop: Promise<void> | null = null
  private current: Promise<unknown> | null = null
  private wakeUp: (() => void) | null = null
  private thread: Worker | null = null
  /** One claim-and-build at a time, whoever asks (the polling loop, `drain`, or a queue message). */
  private lock: Promise<unknown> = Promise.resolve()

  constructor(
    readonly opts: BuildRunnerOptions,
    private readonly modules: {
      sql: Sql
      key: AtRestKey
      store: SnapshotStore
      jobs: BuildJobs
      logger: Logger
      metrics: ReservesMetrics
      /** Told of each snapshot built or given up (the event bus). */
      onBuilt: (e: BuiltEvent) => void
      onFailed: (e: { id: string; error: string }) => void
      /** A span per attempt (`reserves.build`), its statements as children (default: off). */
      tracer?: Tracer
    },
  ) {}

  /** Starts looking for jobs. */
  start(): void {
    this.loop ??= this.run()
  }

  /** Looks for a job now (one was queued). */
  wake(): void {
    this.wakeUp?.()
  }

  /** Runs claimable jobs until none is left (tests, and `idle()` of a service that builds). */
  async drain(): Promise<void> {
    for (;;) {
      const ran = await this.serial(async () => {
        const job = await this.claim()
        if (job) await this.track(job)
        return job !== null
      })
      if (!ran) return
    }
  }

  /** Resolves when no build is in hand here (the queue consumer pulls a message only then). */
  async free(): Promise<void> {
    await this.lock
  }

  /**
   * Builds the job of one snapshot, named by a queue message (nats-builds.ts), once the build in
   * hand (if any) has ended: claimed through the database like any other (fencing as in jobs.ts), so
   * a message for a job done, held by a live worker or not due yet builds nothing.
   */
  /** `parent`: the W3C trace context the queue message carried; the build's span joins that trace. */
  runById(id: string, parent?: TraceCarrier): Promise<RunByIdOutcome> {
    return this.serial(async (): Promise<RunByIdOutcome> => {
      if (this.stopped) return { outcome: 'released' }
      const r = await this.claim(id)
      if ('gone' in r) return { outcome: 'gone' }
      if ('waitMs' in r) return { outcome: 'wait', waitMs: r.waitMs }
      return this.track(r.job, parent)
    })
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn)
    this.lock = p.catch(() => {})
    return p
  }

  /** Stops claiming and abandons the build in hand (its lease runs out; another runner retries it). */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    if (this.thread) await this.thread.terminate()
    await this.current?.catch(() => {})
    await this.loop
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ran = false
      try {
        ran = await this.serial(async () => {
          if (this.stopped) return false
          const job = await this.claim()
          if (job) await this.track(job)
          return job !== null
        })
      } catch (err) {
        this.modules.logger.warn({ err }, 'build queue: cannot claim a job')
      }
      if (!ran && !this.stopped)
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.opts.pollMs)
          this.wakeUp = () => {
            clearTimeout(t)
            r()
          }
        })
      this.wakeUp = null
    }
  }

  /**
   * Claims a job (the oldest claimable, or that of snapshot `id`) and records `build.started` for
   * webhooks in the same transaction (not for a claim past its attempts).
   */
  private claim(): Promise<ClaimedJob | null>
  private claim(id: string): Promise<{ job: ClaimedJob } | { waitMs: number } | { gone: true }>
  private claim(id?: string) {
    return this.modules.sql.transaction(async (tx) => {
      const { jobs } = this.modules
      const { owner, leaseMs } = this.opts
      const byId = id === undefined ? null : await jobs.claimById(id, owner, leaseMs, tx)
      const job =
        byId === null
          ? await jobs.claim(owner, leaseMs, tx, this.opts.pollGraceMs ?? 0)
          : 'job' in byId
            ? byId.job
            : null
      if (job && job.attempt <= job.maxAttempts)
        await recordEvent(tx, 'build.started', {
          snapshotId: job.snapshotId,
          attempt: job.attempt,
          maxAttempts: job.maxAttempts,
        })
      return byId ?? job
    })
  }

  private track(job: ClaimedJob, parent?: TraceCarrier): Promise<AttemptOutcome> {
    const p = this.attempt(job, parent).finally(() => {
      this.current = null
    })
    this.current = p
    return p
  }

  private attempt(job: ClaimedJob, parent?: TraceCarrier): Promise<AttemptOutcome> {
    const tracer = this.modules.tracer
    if (!tracer?.enabled) return this.attemptOnce(job)
    return tracer.span(
      'reserves.build',
      { 'reserves.snapshot_id': job.snapshotId, 'reserves.attempt': job.attempt },
      () => this.attemptOnce(job),
      parent ? { kind: 'consumer', parent } : undefined,
    )
  }

  private async attemptOnce(job: ClaimedJob): Promise<AttemptOutcome> {
    const { sql, store, jobs, logger, metrics } = this.modules
    const id = job.snapshotId
    const log = logger.child({ snapshot: id, attempt: job.attempt })
    if (job.attempt > job.maxAttempts) {
      await this.giveUp(job, `gave up after ${job.maxAttempts} attempts`)
      return { outcome: 'failed' }
    }
    const stopTimer = metrics.buildSeconds.startTimer()
    let lost = false
    const progress = { users: 0, readMs: 0, writeMs: 0 }
    const started = performance.now()
    const renew = setInterval(
      () => {
        jobs.renew(job, this.opts.owner, this.opts.leaseMs, progress.users).then(
          (held) => {
            if (held) return
            lost = true
            void this.thread?.terminate()
          },
          (err: unknown) => log.warn({ err }, 'build lease: renewal failed'),
        )
      },
      Math.max(50, Math.floor(this.opts.leaseMs / 3)),
    )
    try {
      const snap = await store.get(id)
      const removed = await store.removeRows(id)
      if (removed > 0) log.warn({ removed }, 'removed the rows of an interrupted attempt')
      log.info({ base: snap.base }, 'snapshot build started')
      const parts = await loadInput(sql, id)
      const check = () => {
        if (lost || this.stopped) throw leaseLost(id)
      }
      const common = { snapshotId: id, hash: snap.hash as HashName, parts, keyId: this.modules.key.id }
      let result: Built
      if (snap.base === null)
        result = await this.onThread(
          {
            ...common,
            type: 'build',
            currencies: snap.currencies as Currency[],
            minDepth: snap.minDepth,
            key: this.modules.key.key,
            userBatch: this.opts.userBatch,
            levelChunk: LEVEL_CHUNK,
          },
          check,
          progress,
          null,
        )
      else {
        const rows = await sql.query('SELECT * FROM reserves_snapshots WHERE id = $1', [snap.base])
        const b = rows[0]
        if (b?.status !== 'built')
          throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `the base snapshot ${snap.base} is no longer built`, {
            fault: 'caller',
            hint: 'build this snapshot in full',
          })
        const levelChunk = b.level_chunk === null ? 2 ** 30 : Number(b.level_chunk)
        const target: ChainTarget = {
          place: await store.place(id),
          base: { id: snap.base, place: placeOf(b), depth: Number(b.depth), levelChunk, k: snap.currencies.length },
        }
        const built = await this.onThread(
          {
            ...common,
            type: 'update',
            place: target.place,
            base: {
              id: snap.base,
              version: target.base.place.version,
              depth: Number(b.depth),
              users: Number(b.user_count),
            },
            k: snap.currencies.length,
            key: this.modules.key.key,
            userBatch: this.opts.userBatch,
          },
          check,
          progress,
          target,
        )
        result = { ...built, levelChunk }
      }
      await sql.transaction(async (tx) => {
        await jobs.complete(job, this.opts.owner, tx)
        await store.markBuilt(id, result, tx)
        await appendAudit(tx, { actor: 'service', role: 'admin', action: 'snapshot.built', details: { id } })
        await recordEvent(tx, 'snapshot.built', {
          snapshotId: id,
          root: { hash: result.rootHash, balances: result.totals },
          currencies: snap.currencies,
        })
      })
      // counted as soon as it commits: a reader who sees the snapshot built finds the count moments later
      stopTimer({ outcome: 'built' })
      metrics.buildAttempts.inc({ outcome: 'built' })
      await dropInput(sql, id)
      log.info(
        {
          users: result.users,
          depth: result.depth,
          base: snap.base,
          ms: Math.round(performance.now() - started),
          // time this thread spent reading the base (incremental builds) and storing rows
          readMs: Math.round(progress.readMs),
          writeMs: Math.round(progress.writeMs),
        },
        'snapshot built',
      )
      this.modules.onBuilt({ id, root: { hash: result.rootHash, balances: result.totals } })
      // after the build is counted and announced: the next build of a chain looks users up by key
      await analyzeBuilt(sql).catch((err: unknown) => log.warn({ err }, 'cannot refresh the user table statistics'))
      return { outcome: 'built' }
    } catch (err) {
      stopTimer({ outcome: 'failed' })
      const message = (err as Error).message
      if (lost || this.stopped || (err instanceof CairnError && err.code === ReservesErrorCode.BUILD_LEASE_LOST)) {
        metrics.buildAttempts.inc({ outcome: 'abandoned' })
        log.warn({ err }, 'snapshot build abandoned (lease lost or stopping): another attempt will take it over')
        // stopping: hand the job back at once (the next runner removes what this attempt wrote)
        const released = this.stopped && !lost
        if (released) await jobs.release(job, this.opts.owner).catch(() => {})
        // cancelled meanwhile: nobody else will build it, so what this attempt wrote goes now
        const now = await jobs.get(id).catch(() => null)
        if (now && (now.state === 'cancelled' || now.state === 'failed')) await store.removeRows(id).catch(() => {})
        return { outcome: released ? 'released' : 'abandoned' }
      }
      const code = (err as { code?: string }).code
      const final = (code !== undefined && FINAL.has(code)) || job.attempt >= job.maxAttempts
      log.error({ err }, final ? 'snapshot build failed' : 'snapshot build attempt failed: will retry')
      await store.removeRows(id).catch(() => {})
      if (final) {
        await this.giveUp(job, message)
        return { outcome: 'failed' }
      }
      metrics.buildAttempts.inc({ outcome: 'retried' })
      const retryMs = this.opts.retryBaseMs * 2 ** (job.attempt - 1)
      await jobs.attemptFailed(job, this.opts.owner, message, retryMs).catch(() => {})
      return { outcome: 'retried', retryMs }
    } finally {
      clearInterval(renew)
    }
  }

  private async giveUp(job: ClaimedJob, error: string): Promise<void> {
    const { sql, store, jobs } = this.modules
    this.modules.metrics.buildAttempts.inc({ outcome: 'failed' })
    const id = job.snapshotId
    await store.removeRows(id)
    // the job, the snapshot's status, the audit entry and the webhook event at once
    await sql.transaction(async (tx) => {
      await jobs.end(id, 'failed', error, tx)
      await store.setFailed(id, error, tx)
      await appendAudit(tx, { actor: 'service', role: 'admin', action: 'snapshot.failed', details: { id, error } })
      await recordEvent(tx, 'snapshot.failed', { snapshotId: id, error })
    })
    await dropInput(sql, id)
    this.modules.onFailed({ id: job.snapshotId, error })
  }

  /**
   * Runs the build thread, storing what it sends and answering its questions about the base
   * (`chain`: an incremental build); `check` throws to abandon (lease lost).
   */
  private onThread(
    req: BuildRequest | UpdateRequest,
    check: () => void,
    progress: { users: number; readMs: number; writeMs: number },
    target: ChainTarget | null,
  ): Promise<Built> {
    const { store, sql } = this.modules
    const rowsUnder = target?.place.lineage ?? req.snapshotId
    const addedIn = target?.place.version ?? 0
    const thread = startWorker(
      new URL(`./build-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
    )
    this.thread = thread
    return new Promise<Built>((resolve, reject) => {
      let settled = false
      const fail = (err: unknown) => {
        if (settled) return
        settled = true
        reject(err)
      }
      // One message at a time, in order, each in a macrotask of its own: PGlite runs a statement
      // synchronously and Node delivers queued thread messages in one batch, so without the
      // setImmediate a run of inserts would hold the event loop for seconds.
      let chain = Promise.resolve()
      thread.on('message', (m: BuildThreadMessage) => {
        chain = chain.then(async () => {
          await new Promise((r) => setImmediate(r))
          if (settled) return
          try {
            check()
            if (m.type === 'error')
              throw new CairnError(
                (m.code as ReservesErrorCode | undefined) ?? ReservesErrorCode.BUILD_FAILED,
                m.message,
                {
                  fault: 'internal',
                },
              )
            const t = performance.now()
            if (m.type.startsWith('ask-')) {
              thread.postMessage(await this.answer(m, target))
              progress.readMs += performance.now() - t
              return
            }
            if (m.type === 'users') {
              await store.insertUsers(rowsUnder, m.rows, addedIn)
              progress.users += m.rows.length
            } else if (m.type === 'level')
              await store.insertLevelChunk(req.snapshotId, m.level, m.chunk, m.hashes, m.balances)
            else if (m.type === 'occupancy') await storeOccupancy(sql, req.snapshotId, m.bits)
            else if (m.type === 'nodes' && target)
              await insertNodes(sql, target.place, m.level, m.indexes, m.hashes, m.balances)
            else if (m.type === 'removed' && target) await markRemoved(sql, target.place, m.keys)
            else if (m.type === 'done') {
              settled = true
              resolve(m)
            } else throw threadError(`build thread: unexpected ${m.type}`)
            progress.writeMs += performance.now() - t
            thread.postMessage({ type: 'ack' })
          } catch (err) {
            fail(err)
          }
        })
      })
      thread.on('error', fail)
      thread.on('exit', (code) =>
        fail(
          new CairnError(ReservesErrorCode.BUILD_FAILED, `the build thread exited (code ${code})`, {
            fault: 'internal',
          }),
        ),
      )
      // The sealed parts (≈ 100 MB for 1M users) are moved, not copied: cloning them held this
      // thread ~200–300 ms as a 1M-user build began (bench/build-stall.ts, a CPU profile's longest task).
      thread.postMessage(req, transferList(req.parts))
    }).finally(() => {
      this.thread = null
      void thread.terminate()
    })
  }

  /** Answers an incremental build's question about its base. */
  private async answer(m: BuildThreadMessage, chain: ChainTarget | null): Promise<BuildThreadReply> {
    const { sql } = this.modules
    if (!chain) throw threadError(`build thread: ${m.type} in a full build`)
    const { base } = chain
    if (m.type === 'ask-users') return { type: 'reply', users: await usersByKey(sql, base.place, m.keys) }
    if (m.type === 'ask-occupancy')
      return { type: 'reply', occupancy: await occupancy(sql, base.id, base.place, base.depth) }
    if (m.type === 'ask-nodes') {
      const r = await readNodes(sql, base.place, base.levelChunk, base.k * 16, [...m.levels], [...m.indexes])
      return { type: 'reply', ...r }
    }
    throw threadError(`build thread: unexpected ${m.type}`)
  }
}
