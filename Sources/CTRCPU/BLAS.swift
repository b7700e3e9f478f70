import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS's `cblas_sgemm`, found at run time so the package builds and runs without it.
public struct BLAS: Sendable {
    // cblas.h: void cblas_sgemm(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint M, N, K,
    //   float alpha, const float *A, blasint lda, const float *B, blasint ldb, float beta, float *C, blasint ldc)
    // The enums are C ints; blasint is int in the LP64 build Debian ships as libopenblas.so.0.
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
        UnsafeMutablePointer<Float>?, Int32
    ) -> Void
    // void openblas_set_num_threads(int); char *openblas_get_config(void)
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?

    let sgemmFunction: SGEMM
    /// The library that was loaded and its configuration string.
    public let library: String

    /// The sonames tried, in order.
    public static let defaultCandidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    /// Loads the first candidate that has `cblas_sgemm`, or returns nil. `SWIFTCTR_BLAS=none`
    /// disables BLAS (the pure-Swift GEMM is used).
    public static func load(candidates: [String] = defaultCandidates, threads: Int) -> BLAS? {
        if let env = getenv("SWIFTCTR_BLAS"), String(cString: env) == "none" { return nil }
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "cblas_sgemm") else {
                continue
            }
            if let setThreads = dlsym(handle, "openblas_set_num_threads") {
                unsafeBitCast(setThreads, to: SetThreads.self)(Int32(threads))
            }
            var config = name
            if let getConfig = dlsym(handle, "openblas_get_config"),
               let text = unsafeBitCast(getConfig, to: GetConfig.self)() {
                config += " (" + String(cString: text).trimmingSpaces() + ")"
            }
            return BLAS(sgemmFunction: unsafeBitCast(symbol, to: SGEMM.self), library: config)
        }
        return nil
    }

    /// Row-major `C = alpha·op(A)·op(B) + beta·C`.
    func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        sgemmFunction(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans,
                      Int32(m), Int32(n), Int32(k), alpha,
                      a, Int32(transA ? m : k), b, Int32(transB ? k : n), beta, c, Int32(n))
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
