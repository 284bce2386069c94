/**
 * The heartbeat peers, resolved once: where to send on each channel, and which source
 * addresses a peer's packets may come from on each channel.
 */
import { normalizeIp, resolveHost, type HostPort, type ResolvedAddress } from './address.js'

export interface HeartbeatPeer {
  nodeId: number
  name: string
  /** Address i is the peer's end of channel i. */
  addresses: HostPort[]
}

export interface PeerChannel {
  /** Where this node sends on the channel. */
  target: { ip: string; port: number }
  /** Every address the host resolved to: a packet's source IP must be one of them. */
  sourceIps: ReadonlySet<string>
  port: number
}

export interface ResolvedPeer {
  nodeId: number
  name: string
  /** Index = channel; undefined where the peer has no address for a local channel. */
  channels: (PeerChannel | undefined)[]
}

/** Prefer an address of the local socket's family: a udp4 socket cannot reach an IPv6 peer. */
function pickTarget(found: ResolvedAddress[], localFamily: 4 | 6): ResolvedAddress {
  const sameFamily = found.find((a) => a.family === localFamily)
  return sameFamily ?? found[0]!
}

async function resolvePeer(peer: HeartbeatPeer, localFamilies: (4 | 6)[]): Promise<ResolvedPeer> {
  const channels = await Promise.all(localFamilies.map(async (family, index): Promise<PeerChannel | undefined> => {
    const address = peer.addresses[index]
    if (address === undefined) return undefined
    const found = await resolveHost(address)
    const target = pickTarget(found, family)
    return { target: { ip: target.ip, port: address.port }, sourceIps: new Set(found.map((a) => a.ip)), port: address.port }
  }))
  return { nodeId: peer.nodeId, name: peer.name, channels }
}

export class PeerTable {
  private constructor(private readonly byId: ReadonlyMap<number, ResolvedPeer>) {}

  /**
   * Resolves every peer address for the channels this node has (`localFamilies[i]` is
   * the family of local channel i); a peer's extra addresses are ignored.
   * Throws RangeError on a duplicate node id; CARB_ERR_NET_RESOLVE on a name that does not resolve.
   */
  static async resolve(peers: HeartbeatPeer[], localFamilies: (4 | 6)[]): Promise<PeerTable> {
    const byId = new Map<number, ResolvedPeer>()
    for (const peer of peers) {
      if (byId.has(peer.nodeId)) throw new RangeError(`heartbeat peers: node id ${peer.nodeId} appears twice`)
      byId.set(peer.nodeId, await resolvePeer(peer, localFamilies))
    }
    return new PeerTable(byId)
  }

  get size(): number {
    return this.byId.size
  }

  get(nodeId: number): ResolvedPeer | undefined {
    return this.byId.get(nodeId)
  }

  /** Peers' send targets on one channel. */
  targets(channel: number): { nodeId: number; ip: string; port: number }[] {
    const out: { nodeId: number; ip: string; port: number }[] = []
    for (const peer of this.byId.values()) {
      const end = peer.channels[channel]
      if (end !== undefined) out.push({ nodeId: peer.nodeId, ...end.target })
    }
    return out
  }

  /** True when `ip:port` is the peer's configured end of `channel`. */
  isSourceOf(nodeId: number, channel: number, ip: string, port: number): boolean {
    const end = this.byId.get(nodeId)?.channels[channel]
    return end !== undefined && end.port === port && end.sourceIps.has(normalizeIp(ip))
  }
}
