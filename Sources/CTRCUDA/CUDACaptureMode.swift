/// `CUstreamCaptureMode` (cuda.h): which other threads' unsafe calls abort a capture.
///
/// ```swift
/// try gpu.beginCapture(on: stream, mode: .threadLocal)
/// ```
public enum CUDACaptureMode: Int32, Sendable {
    /// `CU_STREAM_CAPTURE_MODE_GLOBAL`: unsafe calls from any thread are errors.
    case global = 0
    /// `CU_STREAM_CAPTURE_MODE_THREAD_LOCAL`: only this thread's.
    case threadLocal = 1
    /// `CU_STREAM_CAPTURE_MODE_RELAXED`: none are checked.
    case relaxed = 2
}
