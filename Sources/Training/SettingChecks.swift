/// Checks that several configurations share (a run's, the study's, the digits experiment's),
/// so one kind of setting has one rule and one message wherever it is set.
public enum SettingChecks {
    /// The most steps (or training samples) a count setting may ask for: 10⁸, days of training
    /// even at a millisecond a step; a larger number is a typo, not a run.
    public static let maximumCount = 100_000_000

    /// Throws unless `value` is in `minimum...maximumCount`, naming `name`.
    public static func count(_ value: Int, _ name: String, minimum: Int) throws {
        guard value < minimum || value > maximumCount else { return }
        throw TrainingError.invalidConfiguration("\(name) must be in \(minimum)...\(maximumCount), got \(value)")
    }

    /// Throws unless `seeds` is a non-empty list of distinct seeds (a repeated seed repeats a run
    /// and shrinks the spread reported over them), naming `name`.
    public static func seeds(_ seeds: [UInt64], _ name: String) throws {
        guard !seeds.isEmpty else { throw TrainingError.invalidConfiguration("\(name) must not be empty") }
        guard Set(seeds).count == seeds.count else {
            throw TrainingError.invalidConfiguration("\(name) must be distinct, got \(seeds.map(String.init).joined(separator: ","))")
        }
    }
}
