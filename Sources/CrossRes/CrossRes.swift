@_exported import Tensor
@_exported import Layers
@_exported import Optim
@_exported import Losses
@_exported import Datasets
@_exported import Evaluation
@_exported import Training
