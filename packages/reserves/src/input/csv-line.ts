/**
 * Splits one CSV line (RFC 4180 quoting: a field in double quotes may hold commas and "" for a
 * quote). Returns null when the quoting is broken. Multi-line fields are not supported.
 */
export function splitCsvLine(line: string): string[] | null {
  if (!line.includes('"')) return line.split(',')
  const out: string[] = []
  let i = 0
  for (;;) {
    if (line[i] === '"') {
      let v = ''
      i++
      for (;;) {
        if (i >= line.length) return null
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"'
            i += 2
            continue
          }
          i++
          break
        }
        v += line[i++]
      }
      out.push(v)
      if (i === line.length) return out
      if (line[i] !== ',') return null
      i++
    } else {
      const next = line.indexOf(',', i)
      const field = next < 0 ? line.slice(i) : line.slice(i, next)
      if (field.includes('"')) return null
      out.push(field)
      if (next < 0) return out
      i = next + 1
    }
  }
}
