import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What every scenario works with: the mock upstream, the Paliadin child process, the load
/// client's event loops, and fresh session ids.
final class BenchContext: Sendable {
    let mock: MockUpstream
    /// The Paliadin child process (nil when only the mock and client are measured).
    let gateway: GatewayProcess?
    let clientGroup: MultiThreadedEventLoopGroup
    /// Shorter runs, for development.
    let quick: Bool
    private let sessions = Atomic<Int>(0)
    private let runID = String(UUID().uuidString.prefix(8))

    init(mock: MockUpstream, gateway: GatewayProcess?, clientGroup: MultiThreadedEventLoopGroup, quick: Bool) {
        self.mock = mock
        self.gateway = gateway
        self.clientGroup = clientGroup
        self.quick = quick
    }

    /// A worker on the next client event loop.
    func makeDriver() -> TurnDriver {
        TurnDriver(eventLoop: clientGroup.next(), mockPort: mock.port, paliadinPort: gateway?.port ?? 0)
    }

    /// Paliadin's resident memory (KiB), 0 without Paliadin.
    var paliadinRSSKiB: Int { gateway?.rssKiB ?? 0 }
    var paliadinAnonymousRSSKiB: Int { gateway?.anonymousRSSKiB ?? 0 }

    /// Paliadin's CPU seconds so far, 0 without Paliadin.
    var paliadinCPUSeconds: Double { gateway?.cpuSeconds ?? 0 }

    /// A session id used by no other turn of this run (so no turn carries earlier exchanges).
    func freshSession() -> String {
        "bench-\(runID)-\(sessions.add(1, ordering: .relaxed).newValue)"
    }

    /// Progress on standard error.
    func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
