import Foundation
import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// Reads every ```netheal-vector block of docs/protocol.md and checks it both ways: the fields encode to
/// exactly the documented bytes, and the documented bytes decode to exactly the fields. The document
/// and the code cannot drift apart.
@Suite struct ProtocolVectorTests {
    /// One parsed vector: `key = value` lines, continuation lines appended to the previous value.
    struct Vector {
        var fields: [String: String] = [:]
        var order: [String] = []

        func value(_ key: String) throws -> String {
            try #require(fields[key], "vector is missing '\(key)'")
        }

        func integer(_ key: String) throws -> UInt64 {
            let text = try value(key)
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            return try #require(parsed, "'\(key)' is not an integer: \(text)")
        }

        /// An enum given as `name (number)`: both parts must agree.
        func named<E: RawRepresentable & CaseIterable & CustomStringConvertible>(_ key: String, _: E.Type) throws -> E
        where E.RawValue == UInt8 {
            let parts = try value(key).split(separator: " ")
            let e = try #require(E.allCases.first { $0.description == parts.first.map(String.init) }, "\(key)")
            #expect(parts.count == 2 && parts[1] == "(\(e.rawValue))", "'\(key)': name and number disagree")
            return e
        }
    }

    static let document: String = {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/protocol.md")
        return (try? String(contentsOf: docs, encoding: .utf8)) ?? ""
    }()

    static func vectors(in text: String) -> [Vector] {
        var vectors: [Vector] = []
        var current: Vector?
        var lastKey: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```netheal-vector" {
                current = Vector()
                continue
            }
            guard var vector = current else { continue }
            if line == "```" {
                vectors.append(vector)
                current = nil
                continue
            }
            if let eq = line.range(of: " =") {
                let key = String(line[..<eq.lowerBound])
                vector.fields[key] = line[eq.upperBound...].trimmingCharacters(in: .whitespaces)
                vector.order.append(key)
                lastKey = key
            } else if let key = lastKey {
                vector.fields[key, default: ""] += line.trimmingCharacters(in: .whitespaces)
            }
            current = vector
        }
        return vectors
    }

    @Test func theDocumentHasAtLeastThreeVectorsOneWithARelayedView() throws {
        let vectors = Self.vectors(in: Self.document)
        #expect(vectors.count >= 3, "docs/protocol.md: \(vectors.count) vectors found")
        #expect(vectors.contains { $0.fields["view 1 origin"] != nil }, "no vector with a relayed view")
    }

    @Test func theAnnotatedTableMatchesVectorOne() throws {
        let first = try #require(Self.vectors(in: Self.document).first)
        let v1 = try #require(Hex.decode(try first.value("datagram")))
        let section = try #require(Self.document.range(of: "### V1 annotated"))
        let end = try #require(Self.document.range(of: "### Vectors", range: section.upperBound..<Self.document.endIndex))
        var covered = 0
        for line in Self.document[section.upperBound..<end.lowerBound].split(separator: "\n") {
            // | offset | `hex` | field |
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, let offset = Int(cells[0]), cells[1].hasPrefix("`") else { continue }
            let bytes = try #require(Hex.decode(cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))))
            #expect(offset == covered, "row '\(cells[2])' starts at \(offset), previous row ended at \(covered)")
            #expect(Array(v1.dropFirst(offset).prefix(bytes.count)) == bytes, "row '\(cells[2])' differs from V1")
            covered = offset + bytes.count
        }
        #expect(covered == v1.count, "the annotated rows cover \(covered) of \(v1.count) bytes")
    }

    @Test(arguments: vectors(in: document).indices)
    func vector(_ index: Int) throws {
        let vector = Self.vectors(in: Self.document)[index]
        let name = try vector.value("name")
        let clusterID = try vector.value("cluster_id")
        let memberCount = Int(try vector.integer("member_count"))

        // Keys: seeds as documented; the documented public keys must follow from them.
        let seeds = try (0..<memberCount).map { i in try #require(Hex.decode(try vector.value("member \(i) seed"))) }
        let fleet = try TestFleet(seeds: seeds, clusterID: clusterID)
        for i in 0..<memberCount {
            #expect(Hex.encode(fleet.signers[i].publicKey) == (try vector.value("member \(i) public_key")), "\(name): key \(i)")
            #expect(seeds[i] == TestFleet.seed(for: i), "\(name): seed \(i) is not TestFleet.seed(for: \(i))")
        }

        // Views as documented.
        var views: [ReachabilityView] = []
        while vector.fields["view \(views.count) origin"] != nil {
            let p = "view \(views.count) "
            let reach = try vector.value(p + "reach").split(separator: " ").map { word in
                try #require(Reach.allCases.first { $0.description == word }, "\(name): bad reach '\(word)'")
            }
            // A listed view (layout 2) names the members its reach values speak of.
            let subjects = try vector.fields[p + "reach_subjects"].map { text in
                try text.split(separator: " ").map { word in MemberIndex(Int(try #require(UInt16(word), "\(name): bad subject '\(word)'"))) }
            }
            views.append(ReachabilityView(
                origin: MemberIndex(Int(try vector.integer(p + "origin"))),
                incarnation: try vector.integer(p + "incarnation"), sequence: try vector.integer(p + "sequence"),
                originTimeMillis: try vector.integer(p + "origin_time_ms"),
                configDigest: try vector.integer(p + "config_digest"),
                upstream: try vector.named(p + "upstream", UpstreamHealth.self),
                decision: try vector.named(p + "decision", DecisionState.self), reach: reach, reachSubjects: subjects))
        }
        let expected = try #require(Hex.decode(try vector.value("datagram")), "\(name): datagram is not hex")
        #expect(expected.count == Int(try vector.integer("datagram_bytes")), "\(name): datagram_bytes")
        let sender = try #require(views.first, "\(name): no views")

        // Encode: the documented fields give exactly the documented bytes.
        let relayed = try views.dropFirst().map { try fleet.signed($0) }
        let encoded = try fleet.datagram(sender, relaying: relayed)
        #expect(encoded.droppedRelayed == 0)
        #expect(Hex.encode(encoded.bytes) == Hex.encode(expected), "\(name): encoding differs from docs/protocol.md")

        // Decode: the documented bytes give exactly the documented fields.
        var marks = ViewWatermarks(memberCount: memberCount)
        let decoded = try fleet.decoder.decode(expected, watermarks: &marks).get()
        #expect(decoded.views.map(\.view) == views, "\(name): decoded views differ")
        #expect(decoded.views.map(\.bytes).reduce(WireFormat.magic + [1, UInt8(views.count)], +) == expected)
    }
}
