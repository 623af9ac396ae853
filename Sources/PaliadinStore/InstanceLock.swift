#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a file beside the database, held for the life of the process, so two
/// servers never run on one SQLite file (each would close the other's turns as interrupted).
public final class InstanceLock: Sendable {
    /// Another process holds the lock.
    public struct Held: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "another Paliadin server is using this database (lock \(path) is held); stop it first, or use another --database"
        }
    }

    private let descriptor: Int32

    /// Takes the lock at `path` (created if missing), or throws `Held`.
    public init(path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Held(path: path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw Held(path: path)
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
