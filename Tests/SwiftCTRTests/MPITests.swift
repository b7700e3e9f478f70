@testable import CTRMPI
import CTRCore
import Testing

// The MPI layer without mpirun: what a rank reports when libmpi is missing or the timeout is
// malformed. The collectives themselves run under mpirun in scripts/mpi-tests.sh.
@Suite("MPI")
struct MPITests {
    @Test("a libmpi that does not load: what was expected, what was found, and the fix")
    func missingLibrary() {
        #expect {
            try MPILibrary.load(candidates: ["libswiftctr-missing-mpi.so.40"])
        } throws: { error in
            let message = "\(error)"
            return message.contains("libswiftctr-missing-mpi.so.40") && message.contains("found: ")
                && message.contains("apt-get install openmpi-bin libopenmpi3") && message.contains("run without mpirun")
        }
    }

    @Test("SWIFTCTR_COLLECTIVE_TIMEOUT: seconds > 0, 20 s when unset")
    func timeout() throws {
        #expect(try CollectiveTimeout.parse(nil) == .seconds(20))
        #expect(try CollectiveTimeout.parse("2.5") == .milliseconds(2_500))
        for text in ["0", "-1", "soon", "inf"] {
            #expect(throws: SwiftCTRError.self) { try CollectiveTimeout.parse(text) }
        }
    }
}
