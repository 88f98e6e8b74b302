import NetHealCore
import NetHealSodium
import NetHealTestKit
import NetHealWire
import Testing

/// Builders for hand-made (possibly invalid but correctly signed) datagrams.
enum Raw {
    /// A datagram header announcing `count` views (default: the number of views given).
    static func datagram(_ views: [[UInt8]], count: Int? = nil, version: UInt8 = WireFormat.version) -> [UInt8] {
        WireFormat.magic + [version, UInt8(count ?? views.count)] + views.flatMap { $0 }
    }

    /// `signedView` with its fields changed by `edit` and signed again by `signer`: structurally bad
    /// fields then still carry a valid signature, so only the structural check can catch them.
    static func resigned(_ signedView: [UInt8], by signer: some ViewSigner, edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var fields = Array(signedView.dropLast(WireFormat.signatureBytes))
        edit(&fields)
        return fields + signer.sign(fields[...])
    }

    /// Offset of the origin field inside a view whose cluster id is `clusterID`.
    static func originOffset(_ clusterID: String) -> Int { 2 + clusterID.utf8.count }
}

extension Result where Success == DecodedDatagram, Failure == WireError {
    /// The error, or nil on success.
    var error: WireError? {
        if case .failure(let e) = self { return e }
        return nil
    }

    /// The decoded datagram, or nil on failure.
    var datagram: DecodedDatagram? {
        if case .success(let d) = self { return d }
        return nil
    }
}

/// Decodes `bytes` expecting `expected` and checks the watermarks did not move.
func expectRejected(
    _ bytes: [UInt8], _ expected: WireError, decoder: DatagramDecoder, watermarks: ViewWatermarks,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    var marks = watermarks
    let result = decoder.decode(bytes, watermarks: &marks)
    #expect(result.error == expected, "got \(result)", sourceLocation: sourceLocation)
    #expect(marks == watermarks, "watermarks moved on a rejected datagram", sourceLocation: sourceLocation)
}
