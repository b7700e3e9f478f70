"""HugeCTR's Python enums (spec §1.2): member names in declaration order, `Non` for C++'s None.
A member travels to SwiftCTR as {"enum": "Layer_t", "name": "InnerProduct"}."""

import enum

from . import _bridge

_MEMBERS = {
    "Error_t": "Success FileCannotOpen BrokenFile OutOfMemory OutOfBound WrongInput IllegalCall NotInitialized "
               "UnSupportedFormat InvalidEnv MpiError CublasError CudnnError CudaDriverError CudaRuntimeError "
               "NcclError DataCheckError UnspecificError EndOfFile",
    "Check_t": "Sum Non",
    "DataReaderSparse_t": "Distributed Localized",
    "DataReaderType_t": "Norm Raw Parquet RawAsync",
    "FileSystemType_t": "Local HDFS S3 GCS Other",
    "SourceType_t": "FileList Mmap Parquet",
    "TrainPSType_t": "Staged Cached",
    "Embedding_t": "DistributedSlotSparseEmbeddingHash LocalizedSlotSparseEmbeddingHash "
                   "LocalizedSlotSparseEmbeddingOneHot HybridSparseEmbedding",
    "Initializer_t": "Default Uniform XavierNorm XavierUniform Zero",
    "GroupLayer_t": "GroupFusedInnerProduct",
    "Layer_t": "BatchNorm LayerNorm BinaryCrossEntropyLoss Reshape Select Concat CrossEntropyLoss Dropout "
               "ElementwiseMultiply ELU InnerProduct FusedInnerProduct MLP Interaction MultiCrossEntropyLoss ReLU "
               "ReLUHalf Sigmoid Slice WeightMultiply FmOrder2 Add ReduceSum Softmax Gather PReLU_Dice GRU "
               "MatrixMultiply MultiHeadAttention Scale FusedReshapeConcat FusedReshapeConcatGeneral Sub ReduceMean "
               "MultiCross Cast SequenceMask",
    "Alignment_t": "Auto Non",
    "LrPolicy_t": "fixed",
    "Optimizer_t": "Ftrl Adam RMSProp AdaGrad MomentumSGD Nesterov SGD",
    "Update_t": "Local Global LazyGlobal",
    "Activation_t": "Relu Non",
    "FcPosition_t": "Non Head Body Tail Isolated",
    "Regularizer_t": "L1 L2",
    "MetricsRawType": "Loss Pred Label",
    "MetricsType": "AUC AverageLoss HitRate NDCG SMAPE",
    "DeviceLayout": "LocalFirst NodeFirst",
    "AllReduceAlgo": "OneShot NCCL",
    "Distribution_t": "Uniform PowerLaw",
    "PowerLaw_t": "Long Medium Short Specific",
    "Tensor_t": "Train Evaluate",
    "HybridEmbeddingType": "Distributed",
    "CommunicationType": "IB_NVLink_Hier IB_NVLink NVLink_SingleNode",
    "CommunicationStrategy": "Uniform Hierarchical",
    "CompressionStrategy": "Reduction Unique",
}


def _make(name, members):
    cls = enum.Enum(name, [(m, i) for i, m in enumerate(members.split())], module="hugectr")
    cls.__repr__ = lambda self: f"<{type(self).__name__}.{self.name}: {self.value}>"
    cls.__str__ = lambda self: f"{type(self).__name__}.{self.name}"
    return cls


ENUMS = {name: _make(name, members) for name, members in _MEMBERS.items()}
_bridge._ENUMS.update(ENUMS)
globals().update(ENUMS)
__all__ = list(ENUMS)
