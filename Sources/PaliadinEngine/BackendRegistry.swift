import PaliadinCore

/// The backends a Paliadin runs turns against, by name, and the one a turn gets when it
/// names none.
public struct BackendRegistry: Sendable {
    /// Every backend by its name (the name the audit row and the stats show).
    public let backends: [String: any ChatBackend]
    /// The name of the default backend.
    public let defaultName: String

    /// Fails when `defaultName` is not among the backends or two backends share a name.
    public init(_ backends: [any ChatBackend], defaultName: String? = nil) throws {
        var byName: [String: any ChatBackend] = [:]
        for backend in backends {
            guard byName.updateValue(backend, forKey: backend.name) == nil else {
                throw BackendRegistryError("two backends are named '\(backend.name)'")
            }
        }
        guard let name = defaultName ?? backends.first?.name else { throw BackendRegistryError("no backend is configured") }
        guard byName[name] != nil else {
            throw BackendRegistryError("the default backend '\(name)' is not configured (configured: \(byName.keys.sorted().joined(separator: ", ")))")
        }
        self.backends = byName
        self.defaultName = name
    }

    /// One backend, the default.
    public init(single backend: any ChatBackend) {
        backends = [backend.name: backend]
        defaultName = backend.name
    }

    /// The backend of that name (the default for nil), or nil when there is none.
    public func backend(named name: String?) -> (any ChatBackend)? {
        backends[name ?? defaultName]
    }

    /// The default backend.
    public var defaultBackend: any ChatBackend {
        // The initialisers make sure the default is present.
        backends[defaultName] ?? backends.values.first!
    }

    /// The backends' names, sorted, the default first.
    public var names: [String] {
        [defaultName] + backends.keys.filter { $0 != defaultName }.sorted()
    }
}

/// A backend configuration that cannot work.
public struct BackendRegistryError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
