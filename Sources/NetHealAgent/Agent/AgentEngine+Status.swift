import NetHealCore
import NetHealWire

extension AgentEngine {
    /// Answers one control request.
    func respond(_ request: ControlRequest) async -> ControlResponse {
        switch request.command {
        case .status: break
        case .disable: await setHealingEnabled(false)
        case .enable: await setHealingEnabled(true)
        }
        return ControlResponse(ok: true, status: await status())
    }

    /// Everything `netheal-cluster status` shows.
    func status() async -> AgentStatus {
        let now = clock.now()
        let roster = config.roster
        let freshness = settings.effectiveViewFreshness(memberCount: roster.count)
        var own = core.viewContent(now: now)
        own.reach = Reach.dense(own.reach, subjects: own.reachSubjects, origin: me, memberCount: roster.count)
        var members: [MemberStatus] = []
        var rows: [[Reach]?] = []
        var diagnosisViews: [FleetDiagnosis.MemberView?] = []
        for index in roster.indices {
            let i = index.int
            let isSelf = index == me
            var view = latest[i]?.view
            if let listed = view, listed.reachSubjects != nil {
                view?.reach = listed.denseReach(memberCount: roster.count)
                view?.reachSubjects = nil
            }
            let fresh = !isSelf && receivedAt[i].map { now - $0 < freshness } == true
            members.append(
                MemberStatus(
                    name: roster.name(index), index: i, isSelf: isSelf,
                    addresses: config.addresses[i].map(\.description), reach: own.reach[i],
                    lastDirectMillisAgo: lastDirect[i].map { (now - $0).millisecondsClamped },
                    viewAgeMillis: receivedAt[i].map { (now - $0).millisecondsClamped }, fresh: fresh,
                    viewVersion: view.map { $0.version.description }, upstream: view?.upstream,
                    decision: view?.decision,
                    reachOfMe: view.map { $0.reach[me.int] },
                    configMatches: view.map { $0.configDigest == configDigest }))
            if isSelf {
                rows.append(own.reach)
                diagnosisViews.append(.init(upstream: own.upstream, decision: own.decision, reach: own.reach))
            } else if fresh, let view {
                rows.append(view.reach)
                diagnosisViews.append(.init(upstream: view.upstream, decision: view.decision, reach: view.reach))
            } else {
                rows.append(nil)
                diagnosisViews.append(nil)
            }
        }
        let names = roster.members.map(\.name)
        let transportCounters = transport.counters
        let drops =
            transportCounters.droppedOversize + transportCounters.droppedQueueFull
            + transportCounters.droppedSourceRateLimited + transportCounters.droppedGlobalRateLimited
        let heals = await healer.recentHeals(limit: 10).map { entry in
            HealStatus(
                id: entry.intent.id, reason: entry.intent.reason, action: entry.intent.action.kind.rawValue,
                outcome: entry.outcome?.outcome.rawValue, summary: entry.outcome?.summary,
                startedAtMillis: entry.intent.startedAtMillis, finishedAtMillis: entry.outcome?.finishedAtMillis)
        }
        return AgentStatus(
            node: roster.name(me), memberIndex: me.int, clusterID: roster.clusterID, incarnation: incarnation,
            interface: config.node.interface, mode: settings.dryRun ? "dry-run" : "heal",
            healingEnabled: operatorHealingEnabled, uptimeMillis: (now - startedAt).millisecondsClamped,
            configDigest: Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: configDigest >> (56 - 8 * $0)) }),
            generatedAtMillis: clock.wallMillis(), decision: core.record(now: now), probes: lastProbe, members: members,
            matrix: ReachMatrix(members: names, rows: rows), heals: heals,
            counters: CounterStatus(
                viewsAccepted: counters.viewsAccepted, viewsRelayedAccepted: counters.viewsRelayedAccepted,
                relayedSkipped: counters.relayedSkipped, relayedRedundant: counters.relayedRedundant, indirectSenders: counters.indirectSenders,
                rejected: counters.rejected, datagramsReceived: transportCounters.datagramsReceived,
                transportDrops: drops, datagramsSent: transportCounters.datagramsSent,
                sendErrors: transportCounters.sendErrors, healsStarted: counters.healsStarted,
                wouldHeals: counters.wouldHeals),
            diagnosis: diagnosisLine(names: names, views: diagnosisViews),
            lastReload: lastReload,
            maintenance: inMaintenance ? MaintenanceStatus(untilMillis: maintenanceUntilMillis) : nil)
    }
}

extension AgentEngine {
    /// The one-line diagnosis: over the whole fleet in a full mesh; in neighbourhood mode over this node
    /// and its neighbours only (the members it hears from; docs/scaling.md), so that thousands of
    /// members it never hears are not reported silent.
    func diagnosisLine(names: [String], views: [FleetDiagnosis.MemberView?]) -> String {
        if core.isFullMesh { return FleetDiagnosis.diagnose(.init(names: names, views: views, me: me.int)) }
        let scope = ([me] + core.neighbors).map(\.int).sorted()
        let scoped: [FleetDiagnosis.MemberView?] = scope.map { i in
            views[i].map { view in
                .init(
                    upstream: view.upstream, decision: view.decision,
                    reach: scope.map { view.reach.indices.contains($0) ? view.reach[$0] : .unknown })
            }
        }
        let line = FleetDiagnosis.diagnose(
            .init(names: scope.map { names[$0] }, views: scoped, me: scope.firstIndex(of: me.int) ?? 0))
        return "neighbourhood of \(scope.count - 1): " + line
    }
}
