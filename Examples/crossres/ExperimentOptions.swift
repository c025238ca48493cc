import CrossRes

/// What `demo` and `digits` share: an experiment configuration built from `--config`, `--quick`
/// and `--seeds`.
enum ExperimentOptions {
    /// The configuration: the defaults, then the `--config` file, then `--quick`'s settings (the
    /// preset's values that differ from the defaults), then `--seeds` — command-line options win
    /// over the file, as in every command. `optionalKeys`: settings without a default value.
    static func configuration<C: Codable>(_ invocation: Invocation, defaults: C, optionalKeys: [String] = [], quick: C,
                                          seeds: WritableKeyPath<C, [UInt64]>) throws -> C {
        var layers: [ConfigurationLayer] = []
        if let path = try invocation.nonEmpty("config") { layers.append(try ConfigurationLayer(contentsOf: path)) }
        if try invocation.bool("quick") { layers.append(ConfigurationLayers.layer("--quick", preset: quick, over: defaults)) }
        var configuration = try ConfigurationLayers.decode(C.self, defaults: defaults, optionalKeys: optionalKeys, layers: layers)
        if let list = try invocation.seeds("seeds") { configuration[keyPath: seeds] = list }
        return configuration
    }
}
