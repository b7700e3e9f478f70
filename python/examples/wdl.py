"""HugeCTR's samples/wdl/wdl.py (spec §7.2, v23.08), trained with model.fit, or with
`--loop` the low-level loop of HugeCTR's test/pybind_test/single_node_test.py (get_next,
set_learning_rate, train, eval, get_eval_metrics).

Data: 13 dense values, 1 wide slot of at most 30 crossed keys, then 26 deep slots of at most 2
keys. Without Criteo's files, write such a dataset (27 slots) and pass its folder:

    swiftctr generate --out wdl_data --key-type I32 --slot-sizes 2000,50,...,50 --nnz 30,2,...,2
    python python/examples/wdl.py --data wdl_data          # add --loop for the loop

The embedding workspaces are Examples/json/wdl.json's (2 and 24 MB; the sample's 69 and 1074 are
sized for Criteo), so the run equals `swiftctr train Examples/json/wdl.json`.
"""
import hugectr
from example_settings import settings

args = settings("wdl", max_iter=2300, batchsize=16384, max_eval_batches=300)
solver = hugectr.CreateSolver(max_eval_batches = args.max_eval_batches,
                              batchsize_eval = args.batchsize_eval,
                              batchsize = args.batchsize,
                              lr = args.lr,
                              seed = args.seed,
                              vvgpu = [[0]],
                              i64_input_key = args.i64_input_key,
                              repeat_dataset = True)
reader = hugectr.DataReaderParams(data_reader_type = hugectr.DataReaderType_t.Norm,
                                  source = [args.source],
                                  eval_source = args.eval_source,
                                  check_type = hugectr.Check_t.Sum)
optimizer = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.Adam,
                                    update_type = hugectr.Update_t.Global,
                                    beta1 = 0.9,
                                    beta2 = 0.999,
                                    epsilon = 0.0000001)
model = hugectr.Model(solver, reader, optimizer)
model.add(hugectr.Input(label_dim = 1, label_name = "label",
                        dense_dim = 13, dense_name = "dense",
                        data_reader_sparse_param_array =
                        [hugectr.DataReaderSparseParam("wide_data", 30, True, 1),
                        hugectr.DataReaderSparseParam("deep_data", 2, False, 26)]))
model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                            workspace_size_per_gpu_in_mb = 2,
                            embedding_vec_size = 1,
                            combiner = "sum",
                            sparse_embedding_name = "sparse_embedding2",
                            bottom_name = "wide_data",
                            optimizer = optimizer))
model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                            workspace_size_per_gpu_in_mb = 24,
                            embedding_vec_size = 16,
                            combiner = "sum",
                            sparse_embedding_name = "sparse_embedding1",
                            bottom_name = "deep_data",
                            optimizer = optimizer))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                            bottom_names = ["sparse_embedding1"],
                            top_names = ["reshape1"],
                            leading_dim=416))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                            bottom_names = ["sparse_embedding2"],
                            top_names = ["reshape2"],
                            leading_dim=1))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Concat,
                            bottom_names = ["reshape1", "dense"],
                            top_names = ["concat1"]))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                            bottom_names = ["concat1"],
                            top_names = ["fc1"],
                            num_output=1024))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                            bottom_names = ["fc1"],
                            top_names = ["relu1"]))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                            bottom_names = ["relu1"],
                            top_names = ["dropout1"],
                            dropout_rate=0.5))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                            bottom_names = ["dropout1"],
                            top_names = ["fc2"],
                            num_output=1024))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                            bottom_names = ["fc2"],
                            top_names = ["relu2"]))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                            bottom_names = ["relu2"],
                            top_names = ["dropout2"],
                            dropout_rate=0.5))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                            bottom_names = ["dropout2"],
                            top_names = ["fc3"],
                            num_output=1))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Add,
                            bottom_names = ["fc3", "reshape2"],
                            top_names = ["add1"]))
model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                            bottom_names = ["add1", "label"],
                            top_names = ["loss"]))
model.compile()
model.summary()
model.graph_to_json(graph_config_file = "wdl.json")
if not args.loop:
    model.fit(max_iter = args.max_iter, display = args.display, eval_interval = args.eval_interval,
              snapshot = 1000000, snapshot_prefix = "wdl")
else:
    lr_sch = model.get_learning_rate_scheduler()
    max_iter = args.max_iter
    model.start_data_reading()
    for i in range(max_iter):
        lr = lr_sch.get_next()
        model.set_learning_rate(lr)
        model.train()
        if (i + 1) % args.display == 0:
            loss = model.get_current_loss()
            print("[HUGECTR][INFO] iter: {}; loss: {}".format(i + 1, loss))
        if (i + 1) % args.eval_interval == 0:
            for _ in range(solver.max_eval_batches):
                model.eval()
            metrics = model.get_eval_metrics()
            print("[HUGECTR][INFO] iter: {}, {}".format(i + 1, metrics))
