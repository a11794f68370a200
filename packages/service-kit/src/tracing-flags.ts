import { CairnError } from '@cairn/utils'
import { ServiceErrorCode } from './errors.ts'

/**
 * The services' `--otlp-endpoint URL` and `--trace-sample-ratio R` (default 1), checked: null
 * without an endpoint (tracing off); a CONFIG_INVALID error naming the flag otherwise.
 */
export function tracingFlags(o: {
  otlpEndpoint?: string | undefined
  traceSampleRatio?: string | undefined
}): { otlpEndpoint: string; sampleRatio: number } | null {
  if (!o.otlpEndpoint) return null
  const bad = (message: string) =>
    new CairnError(ServiceErrorCode.CONFIG_INVALID, `bad tracing options: ${message}`, {
      fault: 'caller',
      hint: 'e.g. --otlp-endpoint http://127.0.0.1:4318/v1/traces --trace-sample-ratio 0.1',
    })
  let url: URL
  try {
    url = new URL(o.otlpEndpoint)
  } catch {
    throw bad('--otlp-endpoint must be an http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('--otlp-endpoint must be an http(s) URL')
  const sampleRatio = Number(o.traceSampleRatio ?? '1')
  if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1)
    throw bad('--trace-sample-ratio must be a number from 0 to 1')
  return { otlpEndpoint: o.otlpEndpoint, sampleRatio }
}
