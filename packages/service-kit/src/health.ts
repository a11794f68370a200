import { CairnError, errorMessage } from '@cairn/utils'

export interface CheckResult {
  ok: boolean
  /** Why the check failed (no secrets, no stack). */
  error?: string
  ms: number
}

export interface HealthReport {
  status: 'ok' | 'unavailable'
  checks: Record<string, CheckResult>
}

/**
 * Readiness checks: each component registers a named probe (the database can write, the head is
 * recent…); `run` executes them all with a timeout each and reports which failed. `/health` says
 * the process is alive; `/ready` answers 503 while any check fails.
 */
export class HealthChecks {
  private readonly checks = new Map<string, () => Promise<void>>()

  constructor(private readonly opts: { timeoutMs: number } = { timeoutMs: 2000 }) {}

  register(name: string, check: () => Promise<void>): void {
    this.checks.set(name, check)
  }

  async run(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.runOne(check)] as const),
    )
    const checks = Object.fromEntries(entries)
    return { status: entries.every(([, r]) => r.ok) ? 'ok' : 'unavailable', checks }
  }

  private async runOne(check: () => Promise<void>): Promise<CheckResult> {
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new CairnError('SERVICE_CHECK_TIMEOUT', `no answer within ${this.opts.timeoutMs} ms`, {
                  fault: 'transient',
                }),
              ),
            this.opts.timeoutMs,
          )
        }),
      ])
      return { ok: true, ms: Math.round(performance.now() - started) }
    } catch (err) {
      return { ok: false, error: errorMessage(err), ms: Math.round(performance.now() - started) }
    } finally {
      clearTimeout(timer)
    }
  }
}
