/**
 * Reading an interface's addresses from `ip -j addr show dev IFACE` (iproute2's JSON, so
 * no column parsing), and comparing addresses in canonical form ("fd00:0::1" is "fd00::1").
 * Pure; tested with recorded iproute2 output.
 */
import { isIP, SocketAddress } from 'node:net'

export interface InterfaceAddress { address: string; prefix: number }

/** IPv4 as written (isIP accepts only the dotted-quad form); IPv6 compressed, lower case. */
export function canonicalIp(address: string): string {
  const family = isIP(address)
  if (family === 6) return new SocketAddress({ address, family: 'ipv6' }).address
  return address
}

/** The addresses in iproute2's JSON, or null when the text is not that shape. */
export function parseIpAddrJson(text: string): InterfaceAddress[] | null {
  // stderr shares the capture; the JSON array is the part from the first '[' to the last ']'.
  const start = text.indexOf('[')
  const end = text.lastIndexOf(']')
  if (start < 0 || end < start) return null
  let links: unknown
  try {
    links = JSON.parse(text.slice(start, end + 1))
  } catch {
    return null
  }
  if (!Array.isArray(links)) return null
  const found: InterfaceAddress[] = []
  for (const link of links as { addr_info?: unknown }[]) {
    if (!Array.isArray(link?.addr_info)) continue
    for (const info of link.addr_info as { local?: unknown; prefixlen?: unknown }[]) {
      if (typeof info?.local === 'string' && typeof info.prefixlen === 'number' && isIP(info.local) !== 0) {
        found.push({ address: canonicalIp(info.local), prefix: info.prefixlen })
      }
    }
  }
  return found
}

/** The entry for `address` (any prefix), if the interface has it. */
export function findAddress(addresses: readonly InterfaceAddress[], address: string): InterfaceAddress | undefined {
  const wanted = canonicalIp(address)
  return addresses.find((a) => a.address === wanted)
}

/** iproute2's message when the interface is absent (we run it with LC_ALL=C). */
export function isMissingDevice(output: string): boolean {
  return /Device "[^"]*" does not exist/.test(output)
}
