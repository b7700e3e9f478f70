@_exported import CTRCore
@_exported import CTRData
@_exported import CTREmbedding
@_exported import CTRLayers
@_exported import CTROptimizers
@_exported import CTRCPU
@_exported import CTRCUDA
@_exported import CTRMPI
