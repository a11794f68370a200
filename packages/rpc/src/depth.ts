/** How deeply params may nest: real calls stay under 10 (eth_simulateV1's access lists reach 8). */
export const MAX_PARAMS_DEPTH = 32

/**
 * Whether `value` nests arrays or objects deeper than `max` levels. Iterative, so an attacker's
 * 100,000-level body cannot overflow the stack here (it did later, where code walked the value
 * recursively: a deep unknown field of an eth_call object gave -32603 and a stack in the log).
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (typeof v !== 'object' || v === null) continue
    if (depth + 1 > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}
