/** What a zod issue carries that a sentence needs (zod 4's issue shapes, by code). */
export interface IssueLike {
  code: string
  message: string
  expected?: unknown
  minimum?: unknown
  maximum?: unknown
  inclusive?: boolean
  origin?: unknown
  values?: readonly unknown[]
}

const TYPES: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  tuple: 'a list',
  record: 'an object',
  null: 'null',
}

/** zod's default wordings ("Invalid input: expected number, received NaN", "Too small: …"), which users must not see. */
const ZOD_DEFAULT = /^(Invalid (input|option|string|element|key|value)|Too (small|big)|Unrecognized key)/

/**
 * The sentence for a zod issue that says what was expected, in plain words ("expected a number",
 * "expected at least 1", "expected one of "json", "pretty""): zod's own default wording never
 * reaches a user. A schema's own message (a regex's "expected a hex quantity…") is kept.
 */
export function issueMessage(issue: IssueLike): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message
  const origin = typeof issue.origin === 'string' ? issue.origin : ''
  const items = origin === 'array' || origin === 'set' ? ' items' : origin === 'string' ? ' characters' : ''
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPES[String(issue.expected)] ?? String(issue.expected)}`
    case 'too_small':
      return issue.inclusive === false
        ? `expected more than ${String(issue.minimum)}${items}`
        : `expected at least ${String(issue.minimum)}${items}`
    case 'too_big':
      return issue.inclusive === false
        ? `expected less than ${String(issue.maximum)}${items}`
        : `expected at most ${String(issue.maximum)}${items}`
    case 'invalid_value':
      return `expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`
    case 'invalid_union':
      return 'not any of the accepted forms'
    case 'unrecognized_keys':
      return 'unknown key'
    default:
      return 'not an accepted value'
  }
}
