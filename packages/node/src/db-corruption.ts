/**
 * What the node does when a read finds the chain database damaged (DB_CORRUPT, from LevelDB itself
 * or from the chain store's checks): the read fails with the error (JSON-RPC -32603), and here the
 * damage is logged once per distinct entry, counted in `cairn_db_corruption_errors_total`, and the
 * `db` readiness check fails until the node is restarted on a repaired datadir — the damage does
 * not heal, and a node that serves errors for some blocks must leave the load balancer.
 */
import { type CorruptionSink, DbErrorCode } from '@cairn/db'
import { CairnError, type Logger } from '@cairn/utils'
import { Counter, type Registry } from 'prom-client'

/** Distinct damages logged one by one; past it, one line says the rest are only counted. */
const MAX_LOGGED = 100

export class CorruptionWatch {
  private readonly logged = new Set<string>()
  private found = 0
  private readonly errors: Counter

  constructor(
    _opts: object,
    private readonly modules: { logger: Logger; registry: Registry },
  ) {
    this.errors = new Counter({
      name: 'cairn_db_corruption_errors_total',
      help: 'Reads that found the chain database corrupted (DB_CORRUPT); any is a damaged datadir to restore',
      registers: [modules.registry],
    })
  }

  /** The sink given to the store and the chain (and fed by the read threads). */
  readonly report: CorruptionSink = (err) => {
    this.errors.inc()
    this.found++
    const key = err.message
    if (this.logged.has(key)) return
    if (this.logged.size === MAX_LOGGED) {
      this.logged.add(key)
      this.modules.logger.error(
        { code: err.code },
        `${MAX_LOGGED} distinct damaged entries logged; further ones are only counted (cairn_db_corruption_errors_total)`,
      )
      return
    }
    if (this.logged.size > MAX_LOGGED) return
    this.logged.add(key)
    this.modules.logger.error({ code: err.code, err, hint: err.hint }, `${err.code}: ${err.message}`)
  }

  /** The readiness check: fails once any corruption was found. */
  readonly check = async (): Promise<void> => {
    if (this.found === 0) return
    // What and where is in the log (a datadir path is not for whoever can reach /ready).
    throw new CairnError(
      DbErrorCode.CORRUPT,
      `DB_CORRUPT: ${this.found} read(s) found the chain database corrupted; see the node's log and restore the datadir from a backup`,
      { fault: 'caller' },
    )
  }
}
