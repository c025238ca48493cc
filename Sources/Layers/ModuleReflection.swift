import Tensor

/// The reflection behind ``Module``'s default member discovery, public so that a module
/// overriding one member list can still build on the reflected ones.
///
/// Stored properties (own and superclasses', in declaration order) are classified as
/// ``Parameter``, ``Buffer`` or ``Module``; arrays contribute their elements named by index,
/// dictionaries theirs by key (sorted as text: a dictionary keeps no order, where PyTorch's
/// `ModuleDict` keeps insertion order), tuples by label or
/// position, optionals their wrapped value; anything else (tensors, numbers, configuration
/// structs) is ignored. Labels are written in PyTorch's snake_case (`runningMean` → `running_mean`,
/// `convSep` → `conv_sep`); a leading underscore is dropped.
public enum ModuleReflection {
    /// The direct members of one module.
    public struct Members {
        public var parameters: [(name: String, parameter: Parameter)] = []
        public var buffers: [(name: String, buffer: Buffer)] = []
        public var children: [(name: String, module: any Module)] = []
    }

    /// Parameters, buffers and sub-modules stored directly in `module`'s properties.
    public static func members(of module: any Module) -> Members {
        var members = Members()
        var mirror: Mirror? = Mirror(reflecting: module)
        while let current = mirror {
            for child in current.children {
                guard let label = child.label, !label.hasPrefix("$") else { continue }
                classify(child.value, name: stateName(label), into: &members)
            }
            mirror = current.superclassMirror
        }
        return members
    }

    /// `module`'s own reflected parameters followed by each child's `namedParameters()`,
    /// prefixed with the child's name (duplicates kept).
    public static func reflectedParameters(of module: any Module) -> [(name: String, parameter: Parameter)] {
        var result = members(of: module).parameters
        for child in module.namedChildren() {
            result += child.module.namedParameters().map { (child.name + "." + $0.name, $0.parameter) }
        }
        return result
    }

    /// `module`'s own reflected buffers followed by each child's `namedBuffers()`, prefixed.
    public static func reflectedBuffers(of module: any Module) -> [(name: String, buffer: Buffer)] {
        var result = members(of: module).buffers
        for child in module.namedChildren() {
            result += child.module.namedBuffers().map { (child.name + "." + $0.name, $0.buffer) }
        }
        return result
    }

    /// A Swift property label as a PyTorch attribute name: camelCase → snake_case.
    public static func stateName(_ label: String) -> String {
        var result = ""
        for character in label.drop(while: { $0 == "_" }) {
            if character.isUppercase {
                if !result.isEmpty && result.last != "_" { result.append("_") }
                result += character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Whether an element's kind can hold parameters, buffers or modules (plain numbers cannot).
    private static func mayHoldMembers(_ value: Any) -> Bool {
        [.class, .optional, .collection, .dictionary, .tuple].contains(Mirror(reflecting: value).displayStyle)
    }

    private static func classify(_ value: Any, name: String, into members: inout Members) {
        if let parameter = value as? Parameter {
            members.parameters.append((name, parameter))
        } else if let buffer = value as? Buffer {
            members.buffers.append((name, buffer))
        } else if let module = value as? any Module {
            members.children.append((name, module))
        } else {
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                if let wrapped = mirror.children.first { classify(wrapped.value, name: name, into: &members) }
            case .collection:
                // Arrays of plain values (sizes, strides, data) cannot hold members: skip them whole.
                // Arrays of arrays are followed (`[[Block]]` gives `blocks.0.1.…`).
                guard let first = mirror.children.first, mayHoldMembers(first.value) else { return }
                for (index, element) in mirror.children.enumerated() {
                    classify(element.value, name: name + "." + String(index), into: &members)
                }
            case .dictionary:
                // Entries named by key (like PyTorch's ModuleDict), sorted as text: a Swift
                // dictionary's own order changes from run to run.
                let entries = mirror.children.compactMap { entry -> (key: String, value: Any)? in
                    let pair = Array(Mirror(reflecting: entry.value).children)
                    return pair.count == 2 ? ("\(pair[0].value)", pair[1].value) : nil
                }
                guard let first = entries.first, mayHoldMembers(first.value) else { return }
                for entry in entries.sorted(by: { $0.key < $1.key }) {
                    classify(entry.value, name: name + "." + entry.key, into: &members)
                }
            case .tuple:
                // Elements by label, or by position (`pair.0`, `pair.1`).
                for (index, element) in mirror.children.enumerated() {
                    let label = element.label.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 } ?? String(index)
                    classify(element.value, name: name + "." + stateName(label), into: &members)
                }
            default:
                break
            }
        }
    }
}
