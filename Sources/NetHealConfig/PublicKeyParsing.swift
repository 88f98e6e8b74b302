import NetHealCore

/// Parses public keys as the cluster file writes them: `ed25519:` followed by 64 hex digits.
public enum PublicKeyParsing {
    /// Why a public key text was refused.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        case missingPrefix(String)
        case wrongLength(Int)
        case notHex
        case allZero

        public var description: String {
            let fix = "copy the `ed25519:…` line that `netheal-cluster keygen` printed on that node"
            switch self {
            case .missingPrefix(let text):
                return "malformed public key `\(text.prefix(20))…`: it must start with `\(PublicKeyText.prefix)` — \(fix)"
            case .wrongLength(let digits):
                return "malformed public key: expected 64 hex digits after `\(PublicKeyText.prefix)`, got \(digits) — \(fix)"
            case .notHex:
                return "malformed public key: only hex digits 0-9, a-f may follow `\(PublicKeyText.prefix)` — \(fix)"
            case .allZero:
                return "public key is all zeros (a placeholder, not a key) — \(fix)"
            }
        }
    }

    /// The 32 key bytes of `text`, or why it is malformed.
    public static func parse(_ text: String) -> Result<[UInt8], Failure> {
        guard text.hasPrefix(PublicKeyText.prefix) else { return .failure(.missingPrefix(text)) }
        let hex = text.dropFirst(PublicKeyText.prefix.count)
        guard hex.utf8.count == 64 else { return .failure(.wrongLength(hex.count)) }
        guard let bytes = Hex.decode(hex) else { return .failure(.notHex) }
        guard bytes.contains(where: { $0 != 0 }) else { return .failure(.allZero) }
        return .success(bytes)
    }
}
