import CrossRes

extension CommandLineError {
    /// `body`'s result, a settings error it throws (unknown key, wrong type, out of range)
    /// reported as a usage error (status 2): for the commands that check their whole line and
    /// configuration before any work (`demo`, `digits`, `bench`, `pack`, `samples`).
    static func usage<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TrainingError {
            guard case .invalidConfiguration = error else { throw error }
            throw CommandLineError("\(error)")
        }
    }
}
