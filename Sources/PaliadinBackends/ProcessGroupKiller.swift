#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops an agent started in its own session (so its process group id is its own pid), with
/// everything it started.
///
/// Every signal goes to the whole group (`kill(-pgid, …)`). The callers only signal while the
/// group's leader has not been reaped yet (it runs, or is a zombie), so the group id cannot
/// have been handed to another process.
enum ProcessGroupKiller {
    /// Makes writing to a pipe whose reader is gone fail with `EPIPE` instead of ending this
    /// process with `SIGPIPE` (an agent that exits without reading its prompt). Set once for
    /// the process; children start with default signal dispositions again (swift-subprocess
    /// resets them when it spawns).
    static let brokenPipesIgnored: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    /// Sends `signal` to every process of the group `group`.
    static func send(_ signal: Int32, toGroup group: pid_t) {
        // 0 and 1 would address our own group or every process; never.
        guard group > 1 else { return }
        _ = kill(-group, signal)
    }

    /// True once `pid` (a child of this process) has exited; it stays unreaped (a zombie) for
    /// swift-subprocess to reap. A pid that is no longer our child counts as exited.
    static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        guard rc == 0 else { return errno == ECHILD }
        #if canImport(Darwin)
        return info.si_pid == pid
        #else
        return info._sifields._sigchld.si_pid == pid
        #endif
    }

    /// Waits until `pid` has exited, up to `limit`; returns whether it did. Polls, a few
    /// milliseconds apart at first. Returns early (false) when the task is cancelled.
    static func waitForExit(_ pid: pid_t, upTo limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        var pause = Duration.milliseconds(1)
        while !hasExited(pid) {
            let now = clock.now
            guard now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: min(pause, deadline - now))
            pause = min(pause * 2, .milliseconds(25))
        }
        return true
    }

    /// Asks the group to stop (`SIGTERM`), gives its leader `grace` to exit, then kills what is
    /// left of the group (`SIGKILL`). Runs to the end even when the calling task is cancelled.
    static func terminate(group: pid_t, grace: Duration) async {
        await Task {
            send(SIGTERM, toGroup: group)
            _ = await waitForExit(group, upTo: grace)
            send(SIGKILL, toGroup: group)
        }.value
    }
}
