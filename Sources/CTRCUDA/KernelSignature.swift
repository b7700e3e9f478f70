import CTRCore

/// The C parameter list of one `extern "C" __global__` kernel, read from the kernels' source at
/// load, so that a launch whose arguments do not match is an error instead of a kernel that runs
/// on misread bytes (`cuLaunchKernel` takes untyped pointers and checks nothing).
///
/// ```swift
/// let table = try KernelSignature.parse(#"extern "C" __global__ void axpy(float a, const float* x, float* y, i64 n) {}"#)
/// table["axpy"]?.mismatch([.float(2), .pointer(x), .pointer(y), .int64(n)])  // nil: they match
/// ```
struct KernelSignature: Equatable, Sendable {
    /// How an argument is passed: the C parameter types the launcher can fill.
    enum Kind: String, Sendable {
        case pointer, int32, uint32, int64, uint64, float
        /// `step_scalar`: a value a captured CUDA graph must read from its device slot.
        case perStep
    }

    struct Parameter: Equatable, Sendable {
        let kind: Kind
        /// The parameter as the source declares it, e.g. "const float* x".
        let declaration: String
    }

    let name: String
    let parameters: [Parameter]

    /// The kernel's C signature, e.g. "axpy(float a, const float* x, float* y, i64 n)".
    var declaration: String { "\(name)(\(parameters.map(\.declaration).joined(separator: ", ")))" }

    static let marker = #"extern "C" __global__ void "#

    /// Every kernel `source` defines, by name. Parameter lists may span lines. Throws for a
    /// parameter type the launcher cannot pass, or a name defined twice.
    static func parse(_ source: String) throws(SwiftCTRError) -> [String: KernelSignature] {
        var table: [String: KernelSignature] = [:]
        for definition in source.split(separator: marker, omittingEmptySubsequences: false).dropFirst() {
            guard let open = definition.firstIndex(of: "("), let close = definition.firstIndex(of: ")") else {
                throw SwiftCTRError(.device, "CUDA kernel source: no parameter list after '\(marker)\(definition.prefix(40))'")
            }
            let name = String(definition[..<open]).trimmed
            let list = definition[definition.index(after: open)..<close].split(separator: ",").map { String($0).trimmed }
            let declarations = list == [""] || list == ["void"] ? [] : list
            let signature = KernelSignature(name: name, parameters: try declarations.map { declaration throws(SwiftCTRError) in
                Parameter(kind: try kind(of: declaration, in: name), declaration: declaration)
            })
            guard table.updateValue(signature, forKey: name) == nil else {
                throw SwiftCTRError(.device, "CUDA kernel source: kernel '\(name)' is defined twice")
            }
        }
        return table
    }

    /// The kind of a parameter from its C declaration (type, then name).
    static func kind(of declaration: String, in kernel: String) throws(SwiftCTRError) -> Kind {
        if declaration.contains("*") { return .pointer }
        let type = declaration.split(separator: " ").dropLast().filter { $0 != "const" && $0 != "volatile" }
        switch type.joined(separator: " ") {
        case "step_scalar": return .perStep
        case "float": return .float
        case "int", "int32_t": return .int32
        case "unsigned", "unsigned int", "uint32_t": return .uint32
        case "i64", "long long", "int64_t": return .int64
        case "u64", "unsigned long long", "uint64_t": return .uint64
        default:
            throw SwiftCTRError(.device, "CUDA kernel '\(kernel)': parameter '\(declaration)' has a type KernelArgument "
                + "cannot pass; use a pointer, int, unsigned, i64, u64, float or step_scalar")
        }
    }

    /// Why `arguments` cannot be passed to `kernel`, or nil when `signatures` has it and they match.
    static func mismatch(launching kernel: String, with arguments: [KernelArgument],
                         in signatures: [String: KernelSignature]) -> SwiftCTRError? {
        guard let signature = signatures[kernel] else {
            return SwiftCTRError(.device, "no CUDA kernel is named '\(kernel)' (passed \(describe(arguments))); "
                + "nothing was launched. The kernels are: \(signatures.keys.sorted().joined(separator: ", ")).")
        }
        return signature.mismatch(arguments)
    }

    /// Why `arguments` do not fit these parameters one for one, or nil when they do.
    func mismatch(_ arguments: [KernelArgument]) -> SwiftCTRError? {
        let problem: String
        if arguments.count != parameters.count {
            problem = "\(arguments.count) arguments for \(parameters.count) parameters"
        } else if let i = parameters.indices.first(where: { parameters[$0].kind != arguments[$0].kind }) {
            let hint = switch (parameters[i].kind, arguments[i].kind) {
            case (.perStep, _): " (pass .perStep(bits) so that a captured CUDA graph reads each step's value)"
            case (_, .perStep): " (.perStep goes only to a step_scalar parameter)"
            default: ""
            }
            problem = "argument \(i + 1) is \(arguments[i].kind.rawValue) where '\(parameters[i].declaration)' needs "
                + "\(parameters[i].kind.rawValue)\(hint)"
        } else {
            return nil
        }
        return SwiftCTRError(.device, "CUDA kernel \(declaration) was passed \(Self.describe(arguments)): \(problem); "
            + "nothing was launched.")
    }

    /// "(pointer, int32, float)".
    static func describe(_ arguments: [KernelArgument]) -> String {
        "(\(arguments.map(\.kind.rawValue).joined(separator: ", ")))"
    }
}

extension KernelArgument {
    /// The parameter kind the argument fills.
    var kind: KernelSignature.Kind {
        switch self {
        case .pointer: .pointer
        case .int32: .int32
        case .uint32: .uint32
        case .int64: .int64
        case .uint64: .uint64
        case .float: .float
        case .perStep: .perStep
        }
    }
}

extension String {
    /// Without leading and trailing whitespace, inner runs of whitespace (line breaks of a
    /// parameter list) as one space.
    fileprivate var trimmed: String {
        split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
