"""HugeCTR's samples/mmoe/shared_bottom.py (spec §7.8): the model of
Examples/json/shared_bottom.json, and graph_to_json writes that file (as a JSON value). The solver and
the reader only need to let the model compile; they name Norm file lists whatever the sample reads.

    python python/samples/shared_bottom.py      # writes shared_bottom.json in the current folder
"""
import hugectr


def build(batchsize=1000, batchsize_eval=1000,
          source="./mmoe_data/file_list.txt", eval_source="./mmoe_data/file_list_test.txt"):
    """The compiled model; reading no data until it trains."""
    solver = hugectr.CreateSolver(model_name = "shared_bottom",
                                  max_eval_batches = 100,
                                  batchsize_eval = batchsize_eval,
                                  batchsize = batchsize,
                                  lr = 0.001,
                                  vvgpu = [[0]],
                                  repeat_dataset = True)
    reader = hugectr.DataReaderParams(data_reader_type = hugectr.DataReaderType_t.Norm,
                                      source = [source],
                                      eval_source = eval_source,
                                      check_type = hugectr.Check_t.Sum)
    optimizer = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.SGD,
                                        update_type = hugectr.Update_t.Local,
                                        atomic_update = True)
    model = hugectr.Model(solver, reader, optimizer)
    model.add(hugectr.Input(label_dims = [1, 1], label_names = ["50k_label", "married_label"],
                            dense_dim = 0, dense_name = "dense",
                            data_reader_sparse_param_array =
                            [hugectr.DataReaderSparseParam("data", 1, True, 32)]))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.LocalizedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 8,
                                embedding_vec_size = 16,
                                combiner = "sum",
                                sparse_embedding_name = "embedding",
                                bottom_name = "data",
                                optimizer = optimizer))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["embedding"],
                                top_names = ["reshape_embedding"],
                                leading_dim = 512))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["reshape_embedding"],
                                top_names = ["shared1"],
                                num_output = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["shared1"],
                                top_names = ["relu1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["relu1"],
                                top_names = ["dropout1"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dropout1"],
                                top_names = ["shared2"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["shared2"],
                                top_names = ["relu2"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["relu2"],
                                top_names = ["dropout2"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Slice,
                                bottom_names = ["dropout2"],
                                top_names = ["sliceA", "sliceB"],
                                ranges = [(0,256), (0,256)]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["sliceA"],
                                top_names = ["A_fc1"],
                                num_output = 64))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["A_fc1"],
                                top_names = ["A_relu1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["A_fc1"],
                                top_names = ["A_dropout1"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["A_dropout1"],
                                top_names = ["A_out"],
                                num_output = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["sliceB"],
                                top_names = ["B_fc1"],
                                num_output = 64))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["B_fc1"],
                                top_names = ["B_relu1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["B_relu1"],
                                top_names = ["B_dropout1"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["B_dropout1"],
                                top_names = ["B_out"],
                                num_output = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["A_out", "50k_label"],
                                top_names = ["lossA"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["B_out", "married_label"],
                                top_names = ["lossB"]))
    model.compile(loss_names = ["50k_label", "married_label"], loss_weights = [0.5, 0.5])
    return model


if __name__ == "__main__":
    model = build()
    model.summary()
    model.graph_to_json(graph_config_file = "shared_bottom.json")
