import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The check that a gossip port is free, made before the agent writes anything on the host (state
/// directory, incarnation): a port held by another process is then refused with the same message
/// as the real bind, and nothing is changed (issue 7 §5).
///
/// It binds a throwaway socket with the transport's own options (`SO_REUSEADDR`) and closes it.
/// Only "address in use" is decided here. Any other failure — above all an address that is not
/// configured yet, because the interface is still coming up or a crash left it down mid-heal — is
/// left to the real bind, which comes after an unfinished heal has been completed. The check is
/// skipped altogether when the state directory records an unfinished heal: bringing the interface
/// back comes before refusing to start.
enum GossipPortPreflight {
    /// Throws `GossipTransportError.bindFailed` for the first address whose port is in use.
    static func check(_ addresses: [SocketAddress]) throws(GossipTransportError) {
        for address in addresses {
            let failure = bindErrno(address)
            if failure == EADDRINUSE {
                throw .bindFailed(address: "\(address)", reason: "\(String(cString: strerror(failure))) (errno: \(failure))")
            }
        }
    }

    /// The errno of binding a fresh UDP socket to `address` (0 when the bind succeeded).
    static func bindErrno(_ address: SocketAddress) -> Int32 {
        let domain: Int32
        switch address.protocol {
        case .inet: domain = AF_INET
        case .inet6: domain = AF_INET6
        default: return EAFNOSUPPORT
        }
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else { return errno }
        let rc = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        return rc == 0 ? 0 : errno
    }

    /// True when `stateDirectory` holds a heal journal whose newest heal has no outcome, or one that
    /// cannot be read (then the start sequence, not this check, decides what to do with it). Read
    /// only: nothing is created or moved.
    static func unfinishedHealRecorded(stateDirectory: String) -> Bool {
        let path = stateDirectory.hasSuffix("/") ? stateDirectory + "heal-journal.json" : stateDirectory + "/heal-journal.json"
        let bytes: [UInt8]?
        do {
            bytes = try StateFileIO.readFile(path: path, limit: StateStore.maxFileBytes)
        } catch {
            return true
        }
        guard let bytes else { return false }
        guard let journal = try? JSONDecoder().decode(HealJournal.self, from: Data(bytes)) else { return true }
        return journal.unfinished != nil
    }
}
