import Foundation

/// Resident memory and CPU time of a process, read from `/proc` (Linux).
enum ProcessStats {
    /// `VmRSS` of `/proc/PID/status` in KiB (`pid` nil: this process); 0 when unreadable.
    static func rssKiB(pid: Int32? = nil) -> Int {
        statusKiB("VmRSS", pid: pid)
    }

    /// `RssAnon`: the resident memory that is not mapped from files (heap, stacks) — what the
    /// process itself uses, without the pages of its code and libraries.
    static func anonymousRSSKiB(pid: Int32? = nil) -> Int {
        statusKiB("RssAnon", pid: pid)
    }

    /// A `KiB` field of `/proc/PID/status`; 0 when unreadable.
    static func statusKiB(_ field: String, pid: Int32?) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// User + system CPU seconds of `/proc/PID/stat`, all threads (`pid` nil: this process).
    static func cpuSeconds(pid: Int32? = nil) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 0, utime 11, stime 12 (clock ticks).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
