import Yams

/// A configuration that cannot be used: every problem found, each saying where it is and what to fix.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// One line per problem.
    public let problems: [String]

    public init(_ problems: [String]) {
        self.problems = problems
    }

    public var description: String {
        problems.count == 1 ? problems[0] : "the configuration has \(problems.count) problems:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }

    /// What a YAML reader's error says, with where it is, but none of the file's text: the
    /// file may hold secrets, and the message lands in logs.
    static func describeYAML(_ error: any Error) -> String {
        guard let yaml = error as? YamlError else { return "it cannot be read" }
        func at(_ mark: Mark) -> String { "line \(mark.line), column \(mark.column)" }
        switch yaml {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(problem) at \(at(mark))"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "the key\(duplicates.count == 1 ? "" : "s") \(duplicates.joined(separator: ", ")) appear\(duplicates.count == 1 ? "s" : "") twice, at \(at(context.mark))"
        case .reader(let problem, let offset, _, _):
            return "\(problem)\(offset.map { " at byte \($0)" } ?? "")"
        default:
            return "it cannot be read"
        }
    }
}
