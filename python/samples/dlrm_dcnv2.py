"""MLPerf's DLRM-DCNv2 as HugeCTR's samples/dlrm/train.py builds it (spec §7.6), with one hash
SparseEmbedding standing for the embedding collection: the model of Examples/json/dlrm_dcnv2.json,
and graph_to_json writes that file (as a JSON value). The solver and the reader only need to let
the model compile; they name Norm file lists whatever the sample reads.

    python python/samples/dlrm_dcnv2.py      # writes dlrm_dcnv2.json in the current folder
"""
import hugectr

HOTNESS = [3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1]


def build(batchsize=16384, batchsize_eval=16384,
          source="./data/sample-dlrm-dcnv2/train_list.txt",
          eval_source="./data/sample-dlrm-dcnv2/eval_list.txt"):
    """The compiled model; reading no data until it trains."""
    solver = hugectr.CreateSolver(model_name = "dlrm_dcnv2",
                                  lr = 0.005,
                                  max_eval_batches = 20,
                                  batchsize_eval = batchsize_eval,
                                  batchsize = batchsize,
                                  vvgpu = [[0]],
                                  repeat_dataset = True,
                                  use_mixed_precision = False,
                                  i64_input_key = True)
    reader = hugectr.DataReaderParams(data_reader_type = hugectr.DataReaderType_t.Norm,
                                      source = [source],
                                      eval_source = eval_source,
                                      check_type = hugectr.Check_t.Sum)
    optimizer = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.AdaGrad,
                                        update_type = hugectr.Update_t.Global,
                                        epsilon = 1e-8,
                                        initial_accu_value = 0)
    model = hugectr.Model(solver, reader, optimizer)
    model.add(hugectr.Input(label_dim = 1, label_name = "label",
                            dense_dim = 13, dense_name = "dense",
                            data_reader_sparse_param_array =
                            [hugectr.DataReaderSparseParam("data1", HOTNESS, True, 26)]))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 300,
                                embedding_vec_size = 128,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding1",
                                bottom_name = "data1",
                                optimizer = optimizer))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.MLP,
                                bottom_names = ["dense"],
                                top_names = ["mlp1"],
                                num_outputs = [512, 256, 128],
                                activations = [hugectr.Activation_t.Relu] * 3))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["sparse_embedding1"],
                                top_names = ["reshape1"],
                                leading_dim = 26 * 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Concat,
                                bottom_names = ["reshape1", "mlp1"],
                                top_names = ["concat1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.MultiCross,
                                bottom_names = ["concat1"],
                                top_names = ["interaction1"],
                                num_layers = 3,
                                projection_dim = 512))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.MLP,
                                bottom_names = ["interaction1"],
                                top_names = ["mlp2"],
                                num_outputs = [1024, 1024, 512, 256, 1],
                                activations = [hugectr.Activation_t.Relu] * 4 + [hugectr.Activation_t.Non]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["mlp2", "label"],
                                top_names = ["loss"]))
    model.compile()
    return model


if __name__ == "__main__":
    model = build()
    model.summary()
    model.graph_to_json(graph_config_file = "dlrm_dcnv2.json")
