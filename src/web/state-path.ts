/**
 * Dotted state paths of an xstate state value: 'up' is ['up']; { running: 'monitoring' } is
 * ['running.monitoring']; a parallel value has one leaf path per region. These are the
 * `data-state` values of the chart's DOM.
 */
const MAX_DEPTH = 32

export function stateLeafPaths(value: unknown, prefix = '', depth = 0): string[] {
  const join = (key: string): string => (prefix === '' ? key : `${prefix}.${key}`)
  if (typeof value === 'string') return [join(value)]
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return prefix === '' ? [] : [prefix]
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return prefix === '' ? [] : [prefix]
  return entries.flatMap(([key, child]) =>
    child === undefined || child === null ? [join(key)] : stateLeafPaths(child, join(key), depth + 1))
}

/** A state path and each of its ancestors: 'a.b.c' → ['a', 'a.b', 'a.b.c']. */
export function withAncestors(path: string): string[] {
  const parts = path.split('.')
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'))
}
