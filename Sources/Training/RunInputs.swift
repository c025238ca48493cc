/// What a run reads, by how its output may lie relative to each input (``RunFolder``):
///
/// - `data`: image folders, record files, pair lists, config files — inputs scanned or read
///   whole. The output may be none of them and may not lie inside one: written into an image
///   folder, it would become part of the data the next run reads.
/// - `models`: weights — a `.safetensors` file or a run folder, of which only
///   `backbone.safetensors` is read, by name. The output may not be one of them, but may lie
///   inside one (`evaluate --weights runs/student --output runs/student/eval`).
///
/// With `--force`, the folder replaced may hold neither kind. A plain list (an array literal)
/// is all data: an input whose kind a caller does not say gets the stricter rule, as before
/// the kinds existed.
public struct RunInputs: Sendable, Equatable, ExpressibleByArrayLiteral {
    public var data: [String]
    public var models: [String]

    public init(data: [String] = [], models: [String] = []) {
        self.data = data
        self.models = models
    }

    /// Data inputs only.
    public init(arrayLiteral data: String...) {
        self.init(data: data)
    }

    /// Every input, data first.
    public var all: [String] { data + models }
}
