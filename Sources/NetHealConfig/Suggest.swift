/// "Did you mean …?" for unknown keys and values.
enum Suggest {
    /// ` — did you mean `x`?` when a candidate is close to `word`; otherwise, when `listing` is given,
    /// ` — <listing>: a, b, c`; otherwise "".
    static func didYouMean(_ word: String, among candidates: [String], listing: String?) -> String {
        if let best = closest(to: word, among: candidates) { return " — did you mean `\(best)`?" }
        guard let listing else { return "" }
        return " — \(listing): " + candidates.map { "`\($0)`" }.joined(separator: ", ")
    }

    /// The candidate with the smallest edit distance to `word` (ties: first in `candidates`), when that
    /// distance is small relative to the word's length.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = distance(Array(lowered.unicodeScalars), Array(candidate.lowercased().unicodeScalars))
            if best == nil || d < best!.distance { best = (candidate, d) }
        }
        guard let best else { return nil }
        let allowed = max(1, min(3, max(word.count, best.name.count) / 3))
        return best.distance <= allowed ? best.name : nil
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps.
    static func distance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        guard a.count <= 200, b.count <= 200 else { return max(a.count, b.count) }
        var rows = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { rows[i][0] = i }
        for j in 0...b.count { rows[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, rows[i - 2][j - 2] + 1) }
                rows[i][j] = d
            }
        }
        return rows[a.count][b.count]
    }
}
