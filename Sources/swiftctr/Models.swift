import ArgumentParser
import SwiftCTR

/// `swiftctr models`: the sample models `swiftctr train --model NAME` trains.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List HugeCTR's sample models that `swiftctr train --model NAME` trains on generated data of their input shape.")

    func run() throws {
        var rows = [["model", "HugeCTR sample", "input shape", "graph", "data"]]
        rows.append(["dcn (default)", "samples/dcn/dcn.py", SampleModel.criteoShape, "built in (= Examples/json/dcn.json)", "data/dcn-default"])
        rows.append(["dense-only", "the baseline: an MLP on the dense features", SampleModel.criteoShape, "built in", "data/dcn-default"])
        for sample in SampleModel.all {
            rows.append([sample.name, sample.script, sample.shape, sample.file, sample.directory])
        }
        print(Table.render(rows))
        print("\nswiftctr train --model NAME generates the data once (a planted signal and its oracle AUC), then trains NAME's graph on it; --data picks another dataset of the same shape.")
    }
}
