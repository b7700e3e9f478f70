import CTRCore
@testable import CTRCUDA
import Testing

// Launch checking without a GPU: kernel signatures parsed from CUDA C, matched against the
// arguments the CUDA backend passes, and the layout of a per-step scalar.

private let source = #"""
typedef long long i64;
extern "C" __global__ void axpy(float a, const float* x, float* y, i64 n) { }
// parameters over two lines, and a per-step scalar
extern "C" __global__ void dropout(const float* x, float* y, i64 n, float keep,
                                   unsigned long long threshold, step_scalar seed, u64 stream) { }
extern "C" __global__ void nothing() { }
"""#

@Suite struct KernelSignatureTests {
    @Test func parsesEveryKernelWithItsParameterKinds() throws {
        let table = try KernelSignature.parse(source)
        #expect(table.keys.sorted() == ["axpy", "dropout", "nothing"])
        #expect(table["axpy"]?.parameters.map(\.kind) == [.float, .pointer, .pointer, .int64])
        #expect(table["dropout"]?.parameters.map(\.kind) == [.pointer, .pointer, .int64, .float, .uint64, .perStep, .uint64])
        #expect(table["dropout"]?.declaration
            == "dropout(const float* x, float* y, i64 n, float keep, unsigned long long threshold, step_scalar seed, u64 stream)")
        #expect(table["nothing"]?.parameters == [])
    }

    @Test func rightArgumentsPass() throws {
        let table = try KernelSignature.parse(source)
        #expect(KernelSignature.mismatch(launching: "axpy", with: [.float(2), .pointer(1), .pointer(2), .int64(3)],
                                         in: table) == nil)
        #expect(KernelSignature.mismatch(launching: "dropout", with: [
            .pointer(1), .pointer(2), .int64(3), .float(2), .uint64(4), .perStep(5, slot: 0x100), .uint64(6),
        ], in: table) == nil)
        #expect(KernelSignature.mismatch(launching: "nothing", with: [], in: table) == nil)
    }

    @Test func unknownKernelIsReported() throws {
        let table = try KernelSignature.parse(source)
        let error = try #require(KernelSignature.mismatch(launching: "axpby", with: [.float(2)], in: table))
        #expect(error.kind == .device)
        #expect(error.message.contains("no CUDA kernel is named 'axpby'"))
        #expect(error.message.contains("axpy, dropout, nothing"))
    }

    @Test func wrongArgumentCountIsReported() throws {
        let table = try KernelSignature.parse(source)
        let error = try #require(KernelSignature.mismatch(launching: "axpy", with: [.float(2), .pointer(1), .pointer(2)],
                                                          in: table))
        #expect(error.message.contains("axpy(float a, const float* x, float* y, i64 n)"))
        #expect(error.message.contains("3 arguments for 4 parameters"))
        #expect(error.message.contains("(float, pointer, pointer)"))
        #expect(error.message.contains("nothing was launched"))
    }

    @Test func wrongKindIsReported() throws {
        let table = try KernelSignature.parse(source)
        let error = try #require(KernelSignature.mismatch(launching: "axpy", with: [.float(2), .pointer(1), .pointer(2), .int32(3)],
                                                          in: table))
        #expect(error.message.contains("argument 4 is int32 where 'i64 n' needs int64"))
    }

    @Test func perStepScalarsGoOnlyToStepScalarParameters() throws {
        let table = try KernelSignature.parse(source)
        let baked = try #require(KernelSignature.mismatch(launching: "dropout", with: [
            .pointer(1), .pointer(2), .int64(3), .float(2), .uint64(4), .uint64(5), .uint64(6),
        ], in: table))
        #expect(baked.message.contains("argument 6 is uint64 where 'step_scalar seed' needs perStep"))
        #expect(baked.message.contains("pass .perStep(bits)"))
        let stray = try #require(KernelSignature.mismatch(launching: "axpy", with: [.perStep(2), .pointer(1), .pointer(2), .int64(3)],
                                                          in: table))
        #expect(stray.message.contains("argument 1 is perStep where 'float a' needs float"))
        #expect(stray.message.contains(".perStep goes only to a step_scalar parameter"))
    }

    @Test func unsupportedParameterTypeFailsTheParse() {
        #expect(throws: SwiftCTRError.self) {
            try KernelSignature.parse(#"extern "C" __global__ void k(double x) { }"#)
        }
        #expect(throws: SwiftCTRError.self) {
            try KernelSignature.parse(#"extern "C" __global__ void k(int n) { } extern "C" __global__ void k(int n) { }"#)
        }
    }

    @Test func theAssembledSourceParsesWithEveryKernel() throws {
        let text = KernelSource.assembled
        let table = try KernelSignature.parse(text)
        // The names the source defines, found independently of the parser.
        let defined = text.split(separator: "__global__ void ").dropFirst().map { String($0.prefix { $0 != "(" }) }
        #expect(Set(defined).count == defined.count)
        #expect(Set(table.keys) == Set(defined))
        #expect(table["fill_f32"] == nil)
        // Every family contributes, and the per-step scalars are where graphs need them.
        for family in KernelSource.families { #expect(text.contains(family.source)) }
        for kernel in ["dropout", "relu_dropout", "relu_dropout4", "relu_dropout_backward", "relu_dropout4_backward",
                       "relu_dropout8", "relu_dropout8_backward_bias", "adam", "sgd",
                       "adagrad", "momentum_sgd", "nesterov", "ftrl"] {
            #expect(table[kernel]?.parameters.filter { $0.kind == .perStep }.count == 1, "\(kernel)")
        }
        #expect(table.values.flatMap(\.parameters).filter { $0.kind == .perStep }.count == 13)
    }

    @Test func perStepArgumentIsSixteenBytesOfValueThenSlot() {
        let argument = KernelArgument.perStep(0x1122_3344_5566_7788, slot: 0x7F00_0000_0040)
        #expect(argument.slotSize == 16)
        #expect(KernelArgument.int32(1).slotSize == 8)
        let bytes = withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { slot in
            argument.store(to: slot.baseAddress!)
            return (slot.load(as: UInt64.self), slot.load(fromByteOffset: 8, as: UInt64.self))
        }
        #expect(bytes.0 == 0x1122_3344_5566_7788)
        #expect(bytes.1 == 0x7F00_0000_0040)
        #expect(KernelArgument.perStep(1).kind == .perStep)
    }
}
