import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface HsmMetrics {
  /** Time of one signature on the token (C_SignInit + C_Sign), seconds. */
  signSeconds: Histogram
  /** Signatures the token did not give, by reason (`session`: the session or login was lost; `device`: any other failure). */
  signErrors: Counter<'reason'>
  /** 1 while the token signs (logged in, last signature given), 0 from a failed signature until the next one. */
  up: Gauge
}

const byRegistry = new WeakMap<Registry, HsmMetrics>()

/**
 * The HSM signers' metrics (`cairn_hsm_*`); the error counter is exported at 0 for each reason.
 * One set per registry: a node whose validator key and identity key are both on tokens shares it.
 */
export function createHsmMetrics(register: Registry): HsmMetrics {
  const made = byRegistry.get(register)
  if (made) return made
  const metrics = newHsmMetrics(register)
  byRegistry.set(register, metrics)
  return metrics
}

function newHsmMetrics(register: Registry): HsmMetrics {
  const registers = [register]
  const signErrors = new Counter({
    name: 'cairn_hsm_sign_errors_total',
    help: 'Signatures the PKCS#11 token did not give, by reason (session, device)',
    labelNames: ['reason'],
    registers,
  })
  for (const reason of ['session', 'device']) signErrors.inc({ reason }, 0)
  return {
    signSeconds: new Histogram({
      name: 'cairn_hsm_sign_seconds',
      help: 'Time of one signature on the PKCS#11 token',
      buckets: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
      registers,
    }),
    signErrors,
    up: new Gauge({
      name: 'cairn_hsm_up',
      help: 'Whether the PKCS#11 token signs: 1 after a signature or a login, 0 after a failed signature',
      registers,
    }),
  }
}
