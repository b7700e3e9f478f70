"""HugeCTR's samples/bst/bst_avg_pooling.py (spec §7.9): the model of
Examples/json/bst.json, and graph_to_json writes that file (as a JSON value). The solver and
the reader only need to let the model compile; they name Norm file lists whatever the sample reads.

    python python/samples/bst.py      # writes bst.json in the current folder
"""
import hugectr


def build(batchsize=64, batchsize_eval=4096,
          source="./bst_data/file_list.txt", eval_source="./bst_data/file_list_test.txt"):
    """The compiled model; reading no data until it trains."""
    solver = hugectr.CreateSolver(model_name = "bst",
                                  max_eval_batches = 1,
                                  batchsize_eval = batchsize_eval,
                                  batchsize = batchsize,
                                  lr = 1e-05,
                                  vvgpu = [[0]],
                                  repeat_dataset = True,
                                  i64_input_key = True)
    reader = hugectr.DataReaderParams(data_reader_type = hugectr.DataReaderType_t.Norm,
                                      source = [source],
                                      eval_source = eval_source,
                                      check_type = hugectr.Check_t.Sum)
    optimizer = hugectr.CreateOptimizer(optimizer_type = hugectr.Optimizer_t.Adam,
                                        update_type = hugectr.Update_t.Global,
                                        beta1 = 0.9,
                                        beta2 = 0.999,
                                        epsilon = 1e-09)
    model = hugectr.Model(solver, reader, optimizer)
    model.add(hugectr.Input(label_dim = 1, label_name = "label",
                            dense_dim = 1, dense_name = "dense",
                            data_reader_sparse_param_array =
                            [hugectr.DataReaderSparseParam("UserID", 1, True, 1),
                             hugectr.DataReaderSparseParam("GoodID", 1, True, 10),
                             hugectr.DataReaderSparseParam("Target_Good", 1, True, 1),
                             hugectr.DataReaderSparseParam("CateID", 1, True, 10),
                             hugectr.DataReaderSparseParam("Target_Cate", 1, True, 1)]))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 8,
                                embedding_vec_size = 18,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding_user",
                                bottom_name = "UserID",
                                optimizer = optimizer))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 8,
                                embedding_vec_size = 16,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding_good",
                                bottom_name = "GoodID",
                                optimizer = optimizer))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 8,
                                embedding_vec_size = 16,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding_item_good",
                                bottom_name = "Target_Good",
                                optimizer = optimizer))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 4,
                                embedding_vec_size = 16,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding_cate",
                                bottom_name = "CateID",
                                optimizer = optimizer))
    model.add(hugectr.SparseEmbedding(embedding_type = hugectr.Embedding_t.DistributedSlotSparseEmbeddingHash,
                                workspace_size_per_gpu_in_mb = 4,
                                embedding_vec_size = 16,
                                combiner = "sum",
                                sparse_embedding_name = "sparse_embedding_item_cate",
                                bottom_name = "Target_Cate",
                                optimizer = optimizer))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.SequenceMask,
                                bottom_names = ["dense", "dense"],
                                top_names = ["sequence_mask"],
                                max_sequence_len_from = 10,
                                max_sequence_len_to = 10))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Concat,
                                bottom_names = ["sparse_embedding_cate", "sparse_embedding_good"],
                                top_names = ["hist_emb_list"],
                                axis = 2))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["hist_emb_list"],
                                top_names = ["query_emb"],
                                num_output = 32))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["hist_emb_list"],
                                top_names = ["key_emb"],
                                num_output = 32))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["hist_emb_list"],
                                top_names = ["value_emb"],
                                num_output = 32))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.MultiHeadAttention,
                                bottom_names = ["query_emb", "key_emb", "value_emb", "sequence_mask"],
                                top_names = ["attention_out"],
                                num_attention_heads = 4))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Add,
                                bottom_names = ["attention_out", "query_emb"],
                                top_names = ["attention_add_shortcut"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.LayerNorm,
                                bottom_names = ["attention_add_shortcut"],
                                top_names = ["attention_layer_norm"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["attention_layer_norm"],
                                top_names = ["attention_ffn1"],
                                num_output = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["attention_ffn1"],
                                top_names = ["attention_ffn2"],
                                num_output = 32))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Add,
                                bottom_names = ["attention_ffn2", "attention_layer_norm"],
                                top_names = ["attention_ffn_shortcut"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.LayerNorm,
                                bottom_names = ["attention_ffn_shortcut"],
                                top_names = ["attention_ffn_layer_norm"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.ReduceMean,
                                bottom_names = ["attention_ffn_layer_norm"],
                                top_names = ["reduce_attention_ffn_layer_norm"],
                                axis = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["reduce_attention_ffn_layer_norm"],
                                top_names = ["reshape_attention_out"],
                                leading_dim = 32))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["sparse_embedding_user"],
                                top_names = ["reshape_user"],
                                leading_dim = 18))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["sparse_embedding_item_good"],
                                top_names = ["reshape_item_good"],
                                leading_dim = 16))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Reshape,
                                bottom_names = ["sparse_embedding_item_cate"],
                                top_names = ["reshape_item_cate"],
                                leading_dim = 16))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.Concat,
                                bottom_names = ["reshape_attention_out", "reshape_user", "reshape_item_good", "reshape_item_cate"],
                                top_names = ["dnn_input"]))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dnn_input"],
                                top_names = ["fc_bst_i1"],
                                num_output = 256))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.PReLU_Dice,
                                bottom_names = ["fc_bst_i1"],
                                top_names = ["dice_1"],
                                elu_alpha = 0.2,
                                eps = 1e-08))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dice_1"],
                                top_names = ["fc_bst_i2"],
                                num_output = 128))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.PReLU_Dice,
                                bottom_names = ["fc_bst_i2"],
                                top_names = ["dice_2"],
                                elu_alpha = 0.2,
                                eps = 1e-08))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dice_2"],
                                top_names = ["fc_bst_i3"],
                                num_output = 64))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.PReLU_Dice,
                                bottom_names = ["fc_bst_i3"],
                                top_names = ["dice_3"],
                                elu_alpha = 0.2,
                                eps = 1e-08))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.InnerProduct,
                                bottom_names = ["dice_3"],
                                top_names = ["fc_bst_i4"],
                                num_output = 1))
    model.add(hugectr.DenseLayer(layer_type = hugectr.Layer_t.BinaryCrossEntropyLoss,
                                bottom_names = ["fc_bst_i4", "label"],
                                top_names = ["loss"]))
    model.compile()
    return model


if __name__ == "__main__":
    model = build()
    model.summary()
    model.graph_to_json(graph_config_file = "bst.json")
