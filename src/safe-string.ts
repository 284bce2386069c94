/**
 * A value as text for an error message, whatever it is. `String(value)` throws on a map
 * whose `toString` is not a function (`{ toString: 1 }`, which msgpack and YAML documents
 * can hold), so a check that names the bad value with it would crash on the very input it
 * rejects; this falls back to the value's tag (`[object Object]`).
 */
export function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** A value for a message, never throwing: JSON where it can (not a BigInt, not a YAML alias cycle), else its text. */
export function show(value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    text = typeof value !== 'object' || value === null ? safeString(value) : `(a ${Array.isArray(value) ? 'list' : 'mapping'} that cannot be printed)`
  }
  return text === undefined ? safeString(value) : text.length > 40 ? `${text.slice(0, 37)}...` : text
}
