import { CairnError, type Logger } from '@cairn/utils'
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  noop,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel'
import { Counter, Gauge, type Registry } from 'prom-client'

/** How one outbound dependency (Redis, a JWKS URL, an RPC upstream…) is called. */
export interface ResilienceOptions {
  /** The dependency's name: the `target` label of the metrics and the logs. */
  name: string
  /** Each attempt gives up after this long (the function gets an aborted signal). */
  timeoutMs: number
  /** Attempts in all (1 = no retry), with exponential backoff and decorrelated jitter between them. */
  retry?: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number }
  /** After `threshold` consecutive failures calls fail at once for `halfOpenAfterMs`, then one probes. */
  breaker?: { threshold: number; halfOpenAfterMs: number }
  /** At most `limit` calls run at once and `queue` wait; more are refused at once. */
  bulkhead?: { limit: number; queue: number }
  /**
   * Which failures are retried and count against the breaker. Default: every error but a
   * CairnError whose fault is `caller` (a refused request does not get better by asking again).
   */
  isTransient?: (err: Error) => boolean
}

/** The metrics shared by every outbound call of a service. */
export interface OutboundMetrics {
  /** Attempts by outcome: success, error, timeout, circuit_open, bulkhead_full. */
  calls: Counter<'target' | 'outcome'>
  /** 0 closed, 1 open, 2 half-open. */
  circuitState: Gauge<'target'>
}

/** The outbound metrics on `registry`, created on first use and shared by every call site. */
export function outboundMetrics(registry: Registry): OutboundMetrics {
  const calls =
    (registry.getSingleMetric('cairn_outbound_calls_total') as Counter<'target' | 'outcome'> | undefined) ??
    new Counter({
      name: 'cairn_outbound_calls_total',
      help: 'Attempts at calls to outside dependencies, by target and outcome (success, error, timeout, circuit_open, bulkhead_full)',
      labelNames: ['target', 'outcome'],
      registers: [registry],
    })
  const circuitState =
    (registry.getSingleMetric('cairn_outbound_circuit_state') as Gauge<'target'> | undefined) ??
    new Gauge({
      name: 'cairn_outbound_circuit_state',
      help: 'Circuit breaker state per outside dependency: 0 closed, 1 open, 2 half-open',
      labelNames: ['target'],
      registers: [registry],
    })
  return { calls, circuitState }
}

export type CircuitStateName = 'closed' | 'open' | 'half-open'

/** Runs calls to one dependency under its timeout, retry, breaker and bulkhead. */
export interface ResilientCall {
  /** Runs `fn`; it should stop its work when `signal` aborts (the attempt timed out). */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>
  readonly circuit: CircuitStateName
  /** Detaches the listeners (the breaker keeps its state). */
  dispose(): void
}

/**
 * A resilient caller for one outside dependency, built on cockatiel: bulkhead → retry → circuit
 * breaker → timeout, outermost first. Failures reach the caller as a CairnError with fault
 * `transient` (`OUTBOUND_TIMEOUT`, `OUTBOUND_CIRCUIT_OPEN`, `OUTBOUND_BULKHEAD_FULL`,
 * `OUTBOUND_FAILED` with the original error as `cause`); a CairnError thrown by `fn` passes
 * through unchanged.
 *
 * @example
 * const jwks = resilientCall(
 *   { name: 'jwks', timeoutMs: 2000, retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 },
 *     breaker: { threshold: 5, halfOpenAfterMs: 10_000 } },
 *   { logger, metrics: outboundMetrics(registry) },
 * )
 * const keys = await jwks.execute((signal) => fetch(url, { signal }).then((r) => r.json()))
 */
export function resilientCall(
  opts: ResilienceOptions,
  modules: { logger: Logger; metrics: OutboundMetrics | null },
): ResilientCall {
  const { logger, metrics } = modules
  const target = opts.name
  const isTransient = opts.isTransient ?? ((err: Error) => !(err instanceof CairnError && err.fault === 'caller'))
  const failures = handleWhen(
    (err) => !(err instanceof BrokenCircuitError || err instanceof BulkheadRejectedError) && isTransient(err),
  )
  const disposers: Array<{ dispose(): void }> = []
  const count = (outcome: string) => metrics?.calls.inc({ target, outcome })

  const timeoutPolicy = timeout(opts.timeoutMs, TimeoutStrategy.Aggressive)
  const breakerPolicy = opts.breaker
    ? circuitBreaker(failures, {
        halfOpenAfter: opts.breaker.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(opts.breaker.threshold),
      })
    : undefined
  const retryPolicy =
    opts.retry && opts.retry.maxAttempts > 1
      ? retry(failures, {
          maxAttempts: opts.retry.maxAttempts - 1,
          backoff: new ExponentialBackoff({
            initialDelay: opts.retry.initialDelayMs,
            maxDelay: opts.retry.maxDelayMs,
          }),
        })
      : undefined
  const bulkheadPolicy = opts.bulkhead ? bulkhead(opts.bulkhead.limit, opts.bulkhead.queue) : undefined

  metrics?.circuitState.set({ target }, 0)
  if (breakerPolicy) {
    disposers.push(
      breakerPolicy.onStateChange((state) => {
        metrics?.circuitState.set({ target }, stateValue(state))
        const fields = { target, state: stateName(state) }
        if (state === CircuitState.Open)
          logger.warn({ ...fields, forMs: opts.breaker?.halfOpenAfterMs }, 'circuit open')
        else logger.info(fields, 'circuit state')
      }),
    )
  }
  disposers.push(timeoutPolicy.onTimeout(() => count('timeout')))
  if (retryPolicy) {
    disposers.push(
      retryPolicy.onRetry((r) =>
        logger.debug(
          { target, attempt: r.attempt, delayMs: Math.round(r.delay), err: 'error' in r ? r.error : undefined },
          'retrying',
        ),
      ),
    )
  }

  const policies = [bulkheadPolicy, retryPolicy, breakerPolicy, timeoutPolicy].filter(
    (p): p is NonNullable<typeof p> => p !== undefined,
  ) as IPolicy[]
  const policy: IPolicy = policies.length ? wrap(...policies) : noop

  return {
    async execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
      try {
        // A signal of its own per call: without one cockatiel derives every call's from one shared
        // module-level signal, and more than ten calls at once printed Node's "possible
        // EventTarget memory leak" warning (its listeners are removed as calls end: no leak).
        return await policy.execute(async ({ signal }) => {
          // An attempt cut off by the timeout is counted once, by the timeout policy.
          try {
            const value = await fn(signal)
            if (!signal.aborted) count('success')
            return value
          } catch (err) {
            if (!signal.aborted) count('error')
            throw err
          }
        }, new AbortController().signal)
      } catch (err) {
        throw toCairnError(err, target, opts, count)
      }
    },
    get circuit() {
      return breakerPolicy ? stateName(breakerPolicy.state) : 'closed'
    },
    dispose() {
      for (const d of disposers) d.dispose()
    },
  }
}

function toCairnError(
  err: unknown,
  target: string,
  opts: ResilienceOptions,
  count: (outcome: string) => void,
): CairnError {
  const meta = { target }
  if (err instanceof BrokenCircuitError) {
    count('circuit_open')
    return new CairnError('OUTBOUND_CIRCUIT_OPEN', `${target} is failing; calls are paused`, {
      fault: 'transient',
      cause: err,
      meta,
      hint: `retry after ${opts.breaker?.halfOpenAfterMs ?? 0} ms`,
    })
  }
  if (err instanceof BulkheadRejectedError) {
    count('bulkhead_full')
    return new CairnError('OUTBOUND_BULKHEAD_FULL', `too many calls to ${target} in flight`, {
      fault: 'transient',
      cause: err,
      meta,
    })
  }
  if (err instanceof TaskCancelledError) {
    return new CairnError('OUTBOUND_TIMEOUT', `${target} did not answer within ${opts.timeoutMs} ms`, {
      fault: 'transient',
      cause: err,
      meta,
    })
  }
  if (err instanceof CairnError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new CairnError('OUTBOUND_FAILED', `call to ${target} failed: ${message}`, {
    fault: 'transient',
    cause: err,
    meta,
  })
}

function stateName(state: CircuitState): CircuitStateName {
  if (state === CircuitState.HalfOpen) return 'half-open'
  if (state === CircuitState.Closed) return 'closed'
  return 'open'
}

function stateValue(state: CircuitState): number {
  return state === CircuitState.HalfOpen ? 2 : state === CircuitState.Closed ? 0 : 1
}
