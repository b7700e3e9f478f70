"""HugeCTR's samples/ncf/neumf.py (spec §7.7): the model of
Examples/json/neumf.json, and graph_to_json writes that file (as a JSON value). The solver and
the reader only need to let the model compile; they name Norm file lists whatever the sample reads.

    python python/samples/neumf.py      # writes neumf.json in the current folder
"""
import hugectr


def build(batchsize=175480, batchsize_eval=27700,
          source="./ncf_data/file_list.txt", eval_source="./ncf_data/file_list_test.txt"):
    """The compiled model; reading no data until it trains."""
    solver = hugectr.CreateSolver(model_name = "neumf",
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
                                embedding_vec_size = 72,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding",
                                bottom_name = "data",
                                optimizer = optimizer))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["sparse_embedding"],
                                top_names = ["reshape1"],
                                leading_dim = 144))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Slice,
                                bottom_names = ["reshape1"],
                                top_names = ["mlp_embedding", "gmf_embedding"],
                                ranges = [(0,127), (128,143)]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["mlp_embedding"],
                                top_names = ["mlp_fc1"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["mlp_fc1"],
                                top_names = ["mlp_relu1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["mlp_relu1"],
                                top_names = ["mlp_dropout1"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["mlp_dropout1"],
                                top_names = ["mlp_fc2"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["mlp_fc2"],
                                top_names = ["mlp_relu2"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["mlp_relu2"],
                                top_names = ["mlp_dropout2"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["mlp_dropout2"],
                                top_names = ["mlp_fc3"],
                                num_output = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["mlp_fc3"],
                                top_names = ["mlp_relu3"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["mlp_relu3"],
                                top_names = ["mlp_dropout3"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["mlp_dropout3"],
                                top_names = ["mlp_fc4"],
                                num_output = 64))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReLU,
                                bottom_names = ["mlp_fc4"],
                                top_names = ["mlp_relu4"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Dropout,
                                bottom_names = ["mlp_relu4"],
                                top_names = ["mlp_dropout4"],
                                dropout_rate = 0.5))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Slice,
                                bottom_names = ["gmf_embedding"],
                                top_names = ["gmf_user", "gmf_item"],
                                ranges = [(0,7), (8,15)]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ElementwiseMultiply,
                                bottom_names = ["gmf_user", "gmf_item"],
                                top_names = ["gmf_multiply"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Concat,
                                bottom_names = ["gmf_multiply", "mlp_dropout4"],
                                top_names = ["concat1"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["concat1"],
                                top_names = ["neumf_out"],
                                num_output = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["neumf_out", "label"],
                                top_names = ["loss"]))
    model.compile()
    return model


if __name__ == "__main__":
    model = build()
    model.summary()
    model.graph_to_json(graph_config_file = "neumf.json")
