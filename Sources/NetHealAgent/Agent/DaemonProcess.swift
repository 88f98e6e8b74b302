import NIOCore
import NIOPosix

/// Process-wide set-up for the daemon (`netheal-cluster run`), done before any task starts.
///
/// The agent's work is a few datagrams and one probe round per second, so it runs on ONE thread:
/// NIO's singleton event loop group gets one loop; the agent's loops prefer it as their task
/// executor (`AgentOptions.runOnEventLoop`), so the decision actor, the tick timer and the sockets
/// share the thread and no datagram costs a thread switch. (NIO's global-executor takeover is not
/// used: it finds its hook with dlsym, which a `--static-swift-stdlib` binary does not export, so
/// the packaged and the development build would run differently.) Blocking work stays off it:
/// probe rounds run on NIO's blocking pool (two threads, whatever the core count: a round blocks
/// one for at most the probe timeout), heal commands on threads of their own. Nothing here changes
/// what the agent decides or sends, only where it runs.
public enum DaemonProcess {
    /// Call once, from the main thread, before the first `await` (before NIO's singletons exist).
    public static func prepare() {
        NIOSingletons.groupLoopCountSuggestion = 1
        NIOSingletons.blockingPoolThreadCountSuggestion = 2
    }
}

/// Runs every job of the tasks that prefer it on one event loop (SE-0417 task executor): the
/// agent's loops, the decision actor they call and the socket handlers then share one thread.
@available(macOS 15.0, *)
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
