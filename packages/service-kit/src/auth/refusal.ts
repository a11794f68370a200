import { CairnError } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'

/**
 * Credentials that were sent but are refused: SERVICE_AUTH_INVALID (fault `caller`) whose message
 * says why, without key material. Each service maps it to its own code and status (401).
 */
export function authInvalid(why: string): CairnError {
  return new CairnError(ServiceErrorCode.AUTH_INVALID, why, { fault: 'caller' })
}
