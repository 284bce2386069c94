/**
 * Heartbeat addresses: IPv4 and IPv6 literals, or host names resolved once through the
 * system resolver (`dns.lookup`, so /etc/hosts counts). Heartbeat networks should use
 * literals; a name is resolved when the heartbeats open, never per packet.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { CarbError } from '../errors.js'

export interface HostPort { host: string; port: number }
export interface ResolvedAddress { ip: string; family: 4 | 6 }

/** `1.2.3.4:7001` or `[::1]:7001`: how packet sources are named in counters and logs. */
export function formatAddress(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** Canonical form for comparing a packet's source with a configured address. */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  return mapped?.[1] ?? lower
}

function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * Every address a host stands for, in resolver order (the first one is where packets
 * go and what a local socket binds). Throws CARB_ERR_NET_RESOLVE naming host:port.
 */
export async function resolveHost(address: HostPort): Promise<ResolvedAddress[]> {
  const host = unbracketed(address.host)
  const literal = isIP(host)
  if (literal === 4 || literal === 6) return [{ ip: normalizeIp(host), family: literal }]
  let found
  try {
    found = await lookup(host, { all: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new CarbError('CARB_ERR_NET_RESOLVE', `cannot resolve heartbeat host (${code})`, `${host}:${address.port}`)
  }
  const usable = found.filter((a) => a.family === 4 || a.family === 6)
  if (usable.length === 0) throw new CarbError('CARB_ERR_NET_RESOLVE', 'heartbeat host has no IPv4 or IPv6 address', `${host}:${address.port}`)
  return usable.map((a) => ({ ip: normalizeIp(a.address), family: a.family as 4 | 6 }))
}
