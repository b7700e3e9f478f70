"""HugeCTR's samples/ncf/ncf.py (spec §7.7): the model of
Examples/json/ncf.json, and graph_to_json writes that file (as a JSON value). The solver and
the reader only need to let the model compile; they name Norm file lists whatever the sample reads.

    python python/samples/ncf.py      # writes ncf.json in the current folder
"""
import hugectr


def build(batchsize=175480, batchsize_eval=27700,
          source="./ncf_data/file_list.txt", eval_source="./ncf_data/file_list_test.txt"):
    """The compiled model; reading no data until it trains."""
    solver = hugectr.CreateSolver(model_name = "ncf",
                                  max_eval_batches = 100,
                                  batchsize_eval = batchsize_eval,
                                  batchsize = batchsize,
                                  lr = 0.0045,
                                  vvgpu = [[0]],
                                  repeat_dataset = True)
    reader = hugectr.DataReaderParams(data_reader_type = hugectr.DataReaderType_t.Norm,
                                      source = [source],
                                      eval_source = eval_source,
                                      check_type = hugectr.Check_t.Sum)
    optimizer = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.Adam,
                                        update_type = hugectr.Update_t.Global,
                                        beta1 = 0.25,
                                        beta2 = 0.5,
                                        epsilon = 1e-07)
    model = hugectr.Model(solver, reader, optimizer)
    model.add(hugectr.Input(label_dim = 1, label_name = "label",
                            dense_dim = 1, dense_name = "dense",
                            data_reader_sparse_param_array =
                            [hugectr.DataReaderSparseParam("data", 1, True, 2)]))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 16,
                                embedding_vec_size = 64,
                                combiner = "sum",
                                sparse_embedding_name = "mlp_embedding",
                                bottom_name = "data",
                                optimizer = optimizer))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["mlp_embedding"],
                                top_names = ["reshape1"],
                                leading_dim = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["reshape1"],
                                top_names = ["fc1"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc1"],
                                top_names = ["relu1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["relu1"],
                                top_names = ["dropout1"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dropout1"],
                                top_names = ["fc2"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc2"],
                                top_names = ["relu2"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["relu2"],
                                top_names = ["dropout2"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dropout2"],
                                top_names = ["fc3"],
                                num_output = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc3"],
                                top_names = ["relu3"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["relu3"],
                                top_names = ["dropout3"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dropout3"],
                                top_names = ["fc4"],
                                num_output = 64))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["fc4"],
                                top_names = ["relu4"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["relu4"],
                                top_names = ["dropout4"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dropout4"],
                                top_names = ["mlp_out"],
                                num_output = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["mlp_out", "label"],
                                top_names = ["loss"]))
    model.compile()
    return model


if __name__ == "__main__":
    model = build()
    model.summary()
    model.graph_to_json(graph_config_file = "ncf.json")
