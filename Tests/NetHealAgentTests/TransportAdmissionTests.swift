import NetHealCore
import Testing

@testable import NetHealAgent

@Suite("Transport admission (pure)")
struct TransportAdmissionTests {
    let t0 = Instant(nanoseconds: 1_000_000_000)

    @Test func tokenBucketAllowsBurstThenRefillsAtRate() {
        var bucket = TokenBucket(limit: .init(perSecond: 10, burst: 3), now: t0)
        let r1 = bucket.take(now: t0)
        #expect(r1)
        let r2 = bucket.take(now: t0)
        #expect(r2)
        let r3 = bucket.take(now: t0)
        #expect(r3)
        let r4 = bucket.take(now: t0)
        #expect(!r4)
        // 10/s: one token after 100 ms, not before.
        let r5 = bucket.take(now: t0 + .milliseconds(90))
        #expect(!r5)
        let r6 = bucket.take(now: t0 + .milliseconds(101))
        #expect(r6)
        let r7 = bucket.take(now: t0 + .milliseconds(102))
        #expect(!r7)
        // Never more than the burst, however long the pause.
        let later = t0 + .seconds(100)
        #expect(bucket.isFull(now: later))
        for _ in 0..<3 {
            let taken = bucket.take(now: later)
            #expect(taken)
        }
        let r8 = bucket.take(now: later)
        #expect(!r8)
    }

    @Test func oversizeIsDroppedBeforeSpendingTokens() {
        var settings = GossipTransportSettings()
        settings.perSourceLimit = .init(perSecond: 1, burst: 1)
        var admission = InboundAdmission(settings: settings, now: t0)
        let source: InboundAdmission.SourceKey = [127, 0, 0, 1]
        let r9 = admission.admit(size: 1_401, source: source, now: t0)
        #expect(r9 == .oversize)
        let r10 = admission.admit(size: 1_400, source: source, now: t0)
        #expect(r10 == .accept)
        let r11 = admission.admit(size: 10, source: source, now: t0)
        #expect(r11 == .sourceRateLimited)
    }

    @Test func oneNoisySourceDoesNotSpendTheGlobalBudget() {
        var settings = GossipTransportSettings()
        settings.perSourceLimit = .init(perSecond: 1, burst: 2)
        settings.globalLimit = .init(perSecond: 1, burst: 4)
        var admission = InboundAdmission(settings: settings, now: t0)
        let noisy: [UInt8] = [10, 0, 0, 1]
        let verdicts = (0..<10).map { _ in admission.admit(size: 100, source: noisy, now: t0) }
        #expect(verdicts.filter { $0 == .accept }.count == 2)
        #expect(verdicts.filter { $0 == .sourceRateLimited }.count == 8)
        // The global bucket still has 2 of 4 tokens for others.
        let r12 = admission.admit(size: 100, source: [10, 0, 0, 2], now: t0)
        #expect(r12 == .accept)
        let r13 = admission.admit(size: 100, source: [10, 0, 0, 3], now: t0)
        #expect(r13 == .accept)
        let r14 = admission.admit(size: 100, source: [10, 0, 0, 4], now: t0)
        #expect(r14 == .globalRateLimited)
    }

    @Test func sourceTableIsBoundedAndIdleBucketsAreEvicted() {
        var settings = GossipTransportSettings()
        settings.maxTrackedSources = 2
        settings.perSourceLimit = .init(perSecond: 1, burst: 1)
        settings.globalLimit = .init(perSecond: 1_000, burst: 1_000)
        var admission = InboundAdmission(settings: settings, now: t0)
        let r15 = admission.admit(size: 1, source: [1, 1, 1, 1], now: t0)
        #expect(r15 == .accept)
        let r16 = admission.admit(size: 1, source: [2, 2, 2, 2], now: t0)
        #expect(r16 == .accept)
        #expect(admission.trackedSources == 2)
        // Table full, nobody idle: new sources share one overflow bucket (burst 1).
        let r17 = admission.admit(size: 1, source: [3, 3, 3, 3], now: t0)
        #expect(r17 == .accept)
        let r18 = admission.admit(size: 1, source: [4, 4, 4, 4], now: t0)
        #expect(r18 == .sourceRateLimited)
        #expect(admission.trackedSources == 2)
        #expect(admission.overflowAdmissions == 2)
        // After the buckets refilled they are idle and evicted; the new source gets its own bucket.
        let later = t0 + .seconds(5)
        let r19 = admission.admit(size: 1, source: [5, 5, 5, 5], now: later)
        #expect(r19 == .accept)
        #expect(admission.trackedSources == 1)
    }

    @Test func commonPrefixPicksTheMatchingSubnet() {
        #expect(GossipTransport.commonPrefixBits([10, 0, 0, 5], [10, 0, 0, 6]) == 30)
        #expect(GossipTransport.commonPrefixBits([10, 0, 0, 5], [192, 168, 1, 6]) == 0)
        #expect(GossipTransport.commonPrefixBits([192, 168, 1, 5], [192, 168, 1, 5]) == 32)
    }

    @Test func settingsValidationNamesTheField() {
        var settings = GossipTransportSettings()
        settings.maxDatagramBytes = 10
        #expect(throws: GossipTransportError.self) { try settings.validate() }
        do {
            try settings.validate()
        } catch {
            #expect("\(error)".contains("maxDatagramBytes"))
        }
    }
}
