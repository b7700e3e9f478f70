import ArgumentParser
import SwiftCTR

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a HugeCTR JSON model (graph JSON or a legacy full configuration) and print its layer table and memory plan, reading no data.",
        discussion: "Exits with status 0 when the model compiles, non-zero with the error otherwise. Unknown keys are warnings on standard error.")

    @Argument(help: "The HugeCTR JSON model.")
    var config: String

    @Option(help: "Training and evaluation batch size of a graph JSON (a legacy configuration has its own).")
    var batchSize: Int = 2048

    @Option(help: "Precision on a GPU: fp32, tf32, bf16 or fp16 (a legacy configuration's mixed_precision applies unless this is given).")
    var precision = "fp32"

    @Option(help: "Also write the model to this file as HugeCTR's graph_to_json writes it (graph JSON; a legacy configuration's graph too).")
    var graphJSON: String?

    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, found \(batchSize).") }
        guard ["fp32", "tf32", "bf16", "fp16"].contains(precision) else {
            throw ValidationError("--precision must be fp32, tf32, bf16 or fp16, found \(precision).")
        }
    }

    func run() throws {
        try reportingErrors {
            var setup = try JSONModelSetup(file: config)
            let model: Model
            switch setup.config {
            case .graph(let graph):
                var solver = Solver(modelName: graph.modelName, batchsizeEval: batchSize, batchsize: batchSize)
                JSONModelSetup.apply(precision: precision, to: &solver)
                let unread = DataReaderParams(dataReaderType: .norm, source: "(summary reads no data)",
                                              evalSource: "(summary reads no data)", checkType: .sum)
                model = try Model(solver, unread, CreateOptimizer(optimizerType: .adam, updateType: .global),
                                  backend: try deviceOptions.backend())
                model.construct(graph)
            case .legacy(var legacy):
                if precision != "fp32" { JSONModelSetup.apply(precision: precision, to: &legacy.solver) }
                let backend = try setup.backend(deviceOptions.device, solver: &legacy.solver)
                model = try legacy.makeModel(backend: backend)
            }
            setup.printWarnings()
            try model.compile()
            model.summary()
            if let graphJSON {
                try model.graphToJSON(graphConfigFile: graphJSON)
                print("graph JSON: \(graphJSON)")
            }
        }
    }
}
