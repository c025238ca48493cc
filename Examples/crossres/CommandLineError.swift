/// A usage error: unknown flag, bad value, missing file. Printed without a stack, exit status 2.
struct CommandLineError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
