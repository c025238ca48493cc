import CrossRes

/// `--help` text generated from the options, so flags, config keys and help never disagree.
enum CommandHelp {
    static func text(_ command: String, synopsis: String, summary: String, options: [ConfigurationOption],
                     defaults: (String) -> String? = { _ in nil }, notes: [String] = [], example: String) -> String {
        func line(_ left: String, _ right: String) -> String {
            let padded = left.count < 30 ? left.padding(toLength: 30, withPad: " ", startingAt: 0) : left + "\n" + String(repeating: " ", count: 30)
            return "  " + padded + right
        }
        var lines = ["usage: crossres \(command) \(synopsis)", "", summary, "", "options:"]
        for option in options {
            let left = option.flag + (option.kind == .flag ? "" : " " + option.placeholder)
            lines.append(line(left, option.help + (defaults(option.key).map { " (default \($0))" } ?? "")))
        }
        if !options.contains(where: { $0.key == "config" }) {
            lines.append(line("--config FILE", "a JSON object of these settings, keys without the dashes (flags override it)"))
        }
        lines.append(line("--help", "this help"))
        if !notes.isEmpty { lines += [""] + notes }
        lines += ["", "example:", "  " + example]
        return lines.joined(separator: "\n")
    }
}
