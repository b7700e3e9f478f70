"""HugeCTR's samples/ftrl/dlrm_train_ftrl.py (spec §7.10): the model of Examples/json/ftrl.json,
and graph_to_json writes that file (as a JSON value). The script's embedding collection (one table
per slot) is one hash SparseEmbedding per slot with its own Ftrl optimizer here (SwiftCTR has no
embedding collection, and updates embeddings with Ftrl on the CPU only); the dense layers keep
SGD (Examples/json/README.md). The solver and the reader only need to let the model compile; they
name Norm file lists whatever the sample reads.

    python python/samples/ftrl.py     # writes ftrl.json in the current folder
"""
import hugectr

SLOT_SIZES = [10196, 929, 704, 350, 948, 2, 319, 62, 2, 9310, 3566, 3364, 2, 108, 366, 3, 2, 46, 2, 10225,
              7076, 9971, 3045, 456, 3, 2]


def build(batchsize=65536, batchsize_eval=65536,
          source="./criteo_data/file_list.txt", eval_source="./criteo_data/file_list_test.txt"):
    """The compiled model; reading no data until it trains."""
    solver = hugectr.CreateSolver(max_eval_batches = 70,
                                  batchsize_eval = batchsize_eval,
                                  batchsize = batchsize,
                                  lr = 0.5,
                                  warmup_steps = 300,
                                  vvgpu = [[0]],
                                  repeat_dataset = True,
                                  i64_input_key = True)
    reader = hugectr.DataReaderParams(data_reader_type = hugectr.DataReaderType_t.Norm,
                                      source = [source],
                                      eval_source = eval_source,
                                      check_type = hugectr.Check_t.Sum)
    optimizer = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.SGD,
                                        update_type = hugectr.Update_t.Local,
                                        atomic_update = True)
    ftrl = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.Ftrl,
                                   update_type = hugectr.Update_t.Global,
                                   beta = 0.1,
                                   lambda1 = 0.0,
                                   lambda2 = 0.0)
    model = hugectr.Model(solver, reader, optimizer)
    num_embedding = 26
    model.add(hugectr.Input(label_dim = 1, label_name = "label",
                            dense_dim = 13, dense_name = "dense",
                            data_reader_sparse_param_array =
                            [hugectr.DataReaderSparseParam("data{}".format(i), 1, False, 1)
                             for i in range(num_embedding)]))
    for i in range(num_embedding):
        model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                    workspace_size_per_gpu_in_mb = 0,
                                    slot_size_array = [SLOT_SIZES[i]],
                                    embedding_vec_size = 128,
                                    combiner = "sum",
                                    sparse_embedding_name = "emb_vec{}".format(i),
                                    bottom_name = "data{}".format(i),
                                    optimizer = ftrl))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Concat,
                                bottom_names = ["emb_vec{}".format(i) for i in range(num_embedding)],
                                top_names = ["sparse_embedding1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dense"],
                                top_names = ["fc1"],
                                num_output = 512))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc1"],
                                top_names = ["relu1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["relu1"],
                                top_names = ["fc2"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc2"],
                                top_names = ["relu2"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["relu2"],
                                top_names = ["fc3"],
                                num_output = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc3"],
                                top_names = ["relu3"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Interaction,
                                bottom_names = ["relu3", "sparse_embedding1"],
                                top_names = ["interaction1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["interaction1"],
                                top_names = ["fc4"],
                                num_output = 1024))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc4"],
                                top_names = ["relu4"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["relu4"],
                                top_names = ["fc5"],
                                num_output = 1024))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc5"],
                                top_names = ["relu5"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["relu5"],
                                top_names = ["fc6"],
                                num_output = 512))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc6"],
                                top_names = ["relu6"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["relu6"],
                                top_names = ["fc7"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc7"],
                                top_names = ["relu7"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["relu7"],
                                top_names = ["fc8"],
                                num_output = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["fc8", "label"],
                                top_names = ["loss"]))
    model.compile()
    return model


if __name__ == "__main__":
    model = build()
    model.summary()
    model.graph_to_json(graph_config_file = "ftrl.json")
