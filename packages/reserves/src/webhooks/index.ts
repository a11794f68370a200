/**
 * @cairn/reserves/webhooks: what a webhook receiver needs — {@link verifyWebhookSignature}, the
 * header names and the event types. No Node API (only @noble/hashes): any JavaScript runtime.
 */
export type { BackoffOptions } from './backoff.ts'
export { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.ts'
export type { WebhookEventBody, WebhookEventType } from './events.ts'
export { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from './events.ts'
export type { WebhookVerification } from './signature.ts'
export {
  DEFAULT_TOLERANCE_SEC,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from './signature.ts'
