/// Placeholder until the benchmark lands (owned by the Foundation work).
enum BenchCommand {
    static func run(_ arguments: [String]) throws { throw CommandLineError("the benchmark is not built yet") }
}
