/// JSON-friendly coding of the wire enums: their `description` ("healthy", "failing", ...) rather than
/// their 2-bit/byte wire value, so `status --json` reads naturally.
enum DescribedCoding {
    static func decode<T: CaseIterable & CustomStringConvertible>(_: T.Type, from decoder: any Decoder) throws -> T {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = T.allCases.first(where: { $0.description == text }) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown value \"\(text)\""))
        }
        return value
    }

    static func encode(_ value: some CustomStringConvertible, to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value.description)
    }
}

extension DecisionState: Codable {
    public init(from decoder: any Decoder) throws { self = try DescribedCoding.decode(Self.self, from: decoder) }
    public func encode(to encoder: any Encoder) throws { try DescribedCoding.encode(self, to: encoder) }
}

extension UpstreamHealth: Codable {
    public init(from decoder: any Decoder) throws { self = try DescribedCoding.decode(Self.self, from: decoder) }
    public func encode(to encoder: any Encoder) throws { try DescribedCoding.encode(self, to: encoder) }
}

extension Reach: Codable {
    public init(from decoder: any Decoder) throws { self = try DescribedCoding.decode(Self.self, from: decoder) }
    public func encode(to encoder: any Encoder) throws { try DescribedCoding.encode(self, to: encoder) }
}
