import Foundation
import SwiftCTR

/// A model Python holds, with what `add` needs to read objects.
final class ModelBox {
    let model: Model
    init(_ model: Model) { self.model = model }
}

/// A learning-rate schedule Python holds (`Model.get_learning_rate_scheduler()`).
final class SchedulerBox {
    var schedule: LearningRateScheduler
    init(_ schedule: LearningRateScheduler) { self.schedule = schedule }
}

/// `fit`'s callback points, forwarded to Python's `TrainingCallback`s through `on_event`.
final class EventCallback: TrainingCallback {
    let sink: EventSink
    init(_ sink: EventSink) { self.sink = sink }

    private func send(_ event: [String: JSONValue]) throws -> Bool {
        let code = JSONValue.object(event).serialized().withCString { sink($0) }
        if code < 0 { throw CallbackError() }
        return code == 1
    }

    func onTrainingStart() throws { _ = try send(["event": "on_training_start"]) }
    func onTrainingEnd(currentIter: Int) throws { _ = try send(["event": "on_training_end", "iter": .int(currentIter)]) }
    func onEvalStart(currentIter: Int) throws -> Bool { try send(["event": "on_eval_start", "iter": .int(currentIter)]) }
    func onEvalEnd(currentIter: Int, evalResults: [String: Double]) throws -> Bool {
        try send(["event": "on_eval_end", "iter": .int(currentIter), "metrics": .object(evalResults.mapValues { .double($0) })])
    }
}

/// The `Model.*` methods of docs/python.md.
enum ModelMethods {
    static func call(_ method: String, _ args: inout Arguments, bridge: Bridge, onEvent: EventSink?) throws -> JSONValue {
        if method == "Model.new" { return bridge.register(ModelBox(try makeModel(&args))) }
        if method == "Model.free" {
            try bridge.release(&args)
            return .null
        }
        let model = try bridge.object(&args, ModelBox.self, "Model").model
        switch method {
        case "Model.add":
            try add(args.raw("object"), to: model)
        case "Model.compile":
            if args.has("loss_names") || args.has("loss_weights") {
                try model.compile(lossNames: try args.strings("loss_names"), lossWeights: try args.floats("loss_weights"))
            } else {
                try model.compile()
            }
        case "Model.summary":
            return .string(model.summary())
        case "Model.fit":
            let callbacks = try args.bool("callbacks", false)
            model.trainingCallbacks = callbacks ? onEvent.map { [EventCallback($0)] } ?? [] : []
            defer { model.trainingCallbacks = [] }
            try model.fit(numEpochs: try args.int("num_epochs", 0), maxIter: try args.int("max_iter", 2000),
                          display: try args.int("display", 200), evalInterval: try args.int("eval_interval", 1000),
                          snapshot: try args.int("snapshot", 10000), snapshotPrefix: try args.string("snapshot_prefix", ""))
        case "Model.train": return .bool(try model.train())
        case "Model.eval": return .bool(try model.eval())
        case "Model.get_eval_metrics":
            return .array(try model.getEvalMetrics().map { .array([.string($0.0), .double($0.1)]) })
        case "Model.get_current_loss": return .double(Double(model.currentLoss))
        case "Model.start_data_reading": try model.startDataReading()
        case "Model.set_learning_rate": try model.setLearningRate(try args.float("lr"))
        case "Model.graph_to_json": try model.graphToJSON(graphConfigFile: try args.string("graph_config_file"))
        case "Model.construct_from_json":
            let warnings = try model.constructFromJSON(graphConfigFile: try args.string("graph_config_file"),
                                                       includeDenseNetwork: try args.bool("include_dense_network"))
            for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        case "Model.save_params_to_files":
            try model.saveParamsToFiles(prefix: try args.string("prefix"), iter: try args.int("iter", 0))
        case "Model.load_dense_weights": try model.loadDenseWeights(try args.string("dense_model_file"))
        case "Model.load_dense_optimizer_states":
            try model.loadDenseOptimizerStates(try args.string("dense_opt_states_file"))
        case "Model.load_sparse_weights":
            switch try files(&args, "sparse_embedding_files") {
            case .one(let byName): try model.loadSparseWeights(byName)
            case .many(let list): try model.loadSparseWeights(list)
            }
        case "Model.load_sparse_optimizer_states":
            switch try files(&args, "sparse_opt_states_files") {
            case .one(let byName): try model.loadSparseOptimizerStates(byName)
            case .many(let list): try model.loadSparseOptimizerStates(list)
            }
        case "Model.check_out_tensor":
            let name = try args.string("tensor_name")
            let type: TensorType = try args.value("tensor_type", of: .tensorT)
            let (shape, values) = try model.checkOutTensor(name, type)
            return bridge.buffer(values, shape: shape)
        case "Model.export_predictions":
            let written = try model.exportPredictions(outputPredictionFile: try args.string("output_prediction_file_name"),
                                                      outputLabelFile: try args.string("output_label_file_name"))
            return .bool(written)
        default:
            throw ArgumentError("hctr_call: Model has no method '\(method.dropFirst("Model.".count))'; see docs/python.md.")
        }
        return .null
    }

    static func scheduler(_ method: String, _ args: inout Arguments, bridge: Bridge) throws -> JSONValue {
        switch method {
        case "LearningRateScheduler.new":
            let model = try bridge.object(&args, ModelBox.self, "Model").model
            return bridge.register(SchedulerBox(model.learningRateScheduler))
        case "LearningRateScheduler.get_next":
            let box = try bridge.object(&args, SchedulerBox.self, "LearningRateScheduler")
            return .double(Double(box.schedule.next()))
        case "LearningRateScheduler.free":
            try bridge.release(&args)
            return .null
        default:
            throw ArgumentError("hctr_call: LearningRateScheduler has no method '\(method)'; it has get_next.")
        }
    }

    /// A list of paths, or a dict of paths by embedding name.
    private static func files(_ args: inout Arguments, _ name: String) throws -> Either<[String: String], [String]> {
        let value = args.raw(name)
        func wrong() -> ArgumentError {
            ArgumentError("\(args.method): \(name) expects a list of paths (one per embedding, in add order) or a dict of paths by embedding name, found \(value.map(Keywords.describe) ?? "nothing").")
        }
        if case .object(let o)? = value, case .array(let entries)? = o["map"] {
            var byName: [String: String] = [:]
            for entry in entries {
                guard case .array(let kv) = entry, kv.count == 2, let k = kv[0].stringValue, let v = kv[1].stringValue else { throw wrong() }
                byName[k] = v
            }
            return .one(byName)
        }
        guard case .array(let items)? = value else { throw wrong() }
        let paths = items.compactMap(\.stringValue)
        guard paths.count == items.count else { throw wrong() }
        return .many(paths)
    }

    static func makeModel(_ args: inout Arguments) throws -> Model {
        let solver = try Makers.object(args.raw("solver"), "CreateSolver", what: "Model(solver)", Makers.solver)
        let reader = try Makers.object(args.raw("reader_params"), "DataReaderParams", what: "Model(reader_params)", Makers.reader)
        let optimizer = try Makers.object(args.raw("opt_params"), "CreateOptimizer", what: "Model(opt_params)", Makers.optimizer)
        var placed = solver
        let backend = try DeviceChoice.backend(for: &placed)
        return try Model(placed, reader, optimizer, backend: backend)
    }

    /// `Model.add` of an Input, a SparseEmbedding, a DenseLayer or a GroupDenseLayer.
    static func add(_ object: JSONValue?, to model: Model) throws {
        guard let object, let (cls, kwargs) = Keywords.objectParts(object) else {
            throw ArgumentError("Model.add: expected a hugectr.Input, SparseEmbedding, DenseLayer or GroupDenseLayer, found \(object.map(Keywords.describe) ?? "nothing").")
        }
        switch cls {
        case "Input": model.add(try Makers.decode(cls, kwargs, Makers.input).value)
        case "SparseEmbedding": model.add(try Makers.decode(cls, kwargs, Makers.embedding).value)
        case "DenseLayer": model.add(try Makers.decode(cls, kwargs, Makers.denseLayer).value)
        case "GroupDenseLayer": try Makers.decode(cls, kwargs, Makers.groupDenseLayer).value.forEach(model.add)
        default:
            throw ArgumentError("Model.add: expected a hugectr.Input, SparseEmbedding, DenseLayer or GroupDenseLayer, found a \(cls) object.")
        }
    }
}

/// Which backend a Python model trains on: the GPUs `vvgpu` names when the CUDA backend starts,
/// else the CPU (said once). `SWIFTCTR_DEVICE=cpu|cuda` forces either.
enum DeviceChoice {
    nonisolated(unsafe) static var saidCPU = false
    nonisolated(unsafe) static var saidGPU = false

    static func backend(for solver: inout Solver) throws -> any Backend {
        let forced = ProcessInfo.processInfo.environment["SWIFTCTR_DEVICE"]?.lowercased()
        switch forced {
        case "cpu"?: return CPUBackend()
        case "cuda"?, "gpu"?: return try cuda(&solver)
        case nil, ""?:
            // Without a usable GPU the model trains on the CPU, where vvgpu's devices are simulated
            // workers; with one, vvgpu must fit what the CUDA backend trains on (the check in `cuda`).
            let gpu: CUDABackend
            do {
                gpu = try CUDABackend(ordinal: max(0, solver.vvgpu.first?.first ?? 0))
            } catch {
                if !saidCPU {
                    saidCPU = true
                    FileHandle.standardError.write(Data("hugectr (SwiftCTR): no usable GPU (\(error)); training on the CPU. Set SWIFTCTR_DEVICE=cpu to skip the GPU check.\n".utf8))
                }
                return CPUBackend()
            }
            return try cuda(&solver, gpu)
        case let other?:
            throw SwiftCTRError(.config, "SWIFTCTR_DEVICE is '\(other)'; expected cpu or cuda (or unset: a GPU when one is usable, else the CPU).")
        }
    }

    private static func cuda(_ solver: inout Solver, _ started: CUDABackend? = nil) throws -> any Backend {
        solver.devices = .cuda
        try solver.validate()
        let backend = try started ?? CUDABackend(ordinal: solver.vvgpu[0][0])
        if !saidGPU {
            saidGPU = true
            FileHandle.standardError.write(Data("hugectr (SwiftCTR): training on \(backend.name).\n".utf8))
        }
        return backend
    }
}
