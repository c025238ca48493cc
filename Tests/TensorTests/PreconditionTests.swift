import Testing
import Tensor

/// Programming errors stop the process with a message naming the shapes involved — in debug
/// and release builds alike. Each case runs in a child process (a Swift Testing exit test) and
/// the captured standard error is searched for the message.
@Suite struct PreconditionTests {
    enum Misuse: String, Codable, Sendable, CaseIterable {
        case broadcastMismatch, matmulInnerDimensions, matmulBatchSizes, reshapeCount, inferredReshape
        case concatenateShapes, stackShapes, axisOutOfRange, repeatedAxis, nonScalarBackward, seedShape
        case customBackwardCount, preluSlope, scalarsCount, indexOutOfRange, gatherRowsShape, itemOfVector
        case narrowOutOfBounds, broadcastTo, badPermutation, eigenNonSquare, solveRightHandSide, releasedGraph
        // Empty inputs that gave garbage or wrote out of bounds (session 15).
        case emptyPoolPlanes, zeroSizeKernel, emptyBatchStatistics, emptyGlobalAveragePool
        // Messages that named neither the shape nor the bound (session 16).
        case maxOfEmptyAxis, argmaxOfEmptyAxis, infiniteRange, negativeDimension
        // Parameters a gradient check cannot check.
        case frozenParameterChecked, parameterCheckedTwice

        /// The message the failure must print.
        var message: String {
            switch self {
            case .broadcastMismatch: "+: shapes [2, 3] and [4] cannot be broadcast (dimension 1: 3 vs 4)"
            case .matmulInnerDimensions: "matmul: inner dimensions differ: [2, 3] · [4, 5] (3 vs 4)"
            case .matmulBatchSizes: "matmul: batch sizes differ: [2, 3, 4] · [3, 4, 5]"
            case .reshapeCount: "reshaped: cannot reshape [2, 3] (6 elements) to [4, 2]"
            case .inferredReshape: "reshaped: cannot infer -1 in [4, -1] for 6 elements (shape [2, 3])"
            case .concatenateShapes: "concatenate: shapes [[2, 3], [2, 4]] differ outside axis 0"
            case .stackShapes: "stack: shapes differ: [[2], [3]]"
            case .axisOutOfRange: "sum: axis 2 is out of range for a tensor of rank 2"
            case .repeatedAxis: "mean: repeated axis in [1, -1]"
            case .nonScalarBackward: "backward(): output of shape [3] is not a scalar; pass backward(gradient:)"
            case .seedShape: "backward(gradient:): gradient shape [2] does not match output shape [3]"
            case .customBackwardCount: "backward of 'broken' returned 2 gradients for 1 inputs"
            case .preluSlope: "prelu: slope of shape [2] does not match input [1, 3, 4]"
            case .scalarsCount: "Tensor(shape:scalars:): shape [2, 2] needs 4 values, got 3"
            case .indexOutOfRange: "indexSelect: index 5 out of range 0..<3 for axis 1 of shape [2, 3]"
            case .gatherRowsShape: "gatherRows: needs a [B, C] tensor and B indices, got shape [2, 3] and 3 indices"
            case .itemOfVector: "Tensor.item: tensor of shape [2] has 2 elements, not 1"
            case .narrowOutOfBounds: "narrowed: range 2..<5 out of bounds for axis 0 of shape [4]"
            case .broadcastTo: "broadcast(to:): shapes [3] and [2, 4] cannot be broadcast"
            case .badPermutation: "permuted: [0, 0] is not a permutation of the 2 axes of [2, 3]"
            case .eigenNonSquare: "symmetricEigen: needs a square matrix, got shape [2, 3]"
            case .solveRightHandSide: "solve: right-hand side of shape [3] does not match the matrix [2, 2] (need [2] or [2, k])"
            case .releasedGraph: "backward: the graph through 'exp' was already differentiated with retaining: .leaves"
            case .emptyPoolPlanes: "maxPool2d: input planes must not be empty, got [1, 1, 0, 4]"
            case .zeroSizeKernel: "conv2d: weight must be [O, C/groups, kH, kW] with kH, kW ≥ 1, got [1, 1, 0, 0]"
            case .emptyBatchStatistics: "batchNorm: batch statistics need values in every channel, got input [0, 3, 2, 2]"
            case .emptyGlobalAveragePool: "globalAveragePool2d: input must be [N, C, H, W] with non-empty planes, got [2, 3, 0, 5]"
            case .maxOfEmptyAxis: "max: cannot reduce an empty axis of a tensor of shape [3, 0]"
            case .argmaxOfEmptyAxis: "argmax: cannot reduce an empty axis of a tensor of shape [3, 0]"
            case .infiniteRange: "arange: bounds must be finite, got 0.0 to inf"
            case .negativeDimension: "Tensor: negative dimension in shape [-1]"
            case .frozenParameterChecked:
                "GradientCheck: parameter w of shape [2] is frozen (isTrainable false) and has no gradient to check; unfreeze it or leave it out"
            case .parameterCheckedTwice: "GradientCheck: parameter w again of shape [2] is listed twice"
            }
        }

        /// Commits the misuse (never returns normally).
        func commit() {
            let m23 = Tensor.zeros([2, 3])
            switch self {
            case .broadcastMismatch: _ = m23 + Tensor.zeros([4])
            case .matmulInnerDimensions: _ = m23.matmul(Tensor.zeros([4, 5]))
            case .matmulBatchSizes: _ = Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([3, 4, 5]))
            case .reshapeCount: _ = m23.reshaped(to: [4, 2])
            case .inferredReshape: _ = m23.reshaped(to: [4, -1])
            case .concatenateShapes: _ = Tensor.concatenate([m23, Tensor.zeros([2, 4])], axis: 0)
            case .stackShapes: _ = Tensor.stack([Tensor.zeros([2]), Tensor.zeros([3])])
            case .axisOutOfRange: _ = m23.sum(alongAxes: [2])
            case .repeatedAxis: _ = m23.mean(alongAxes: [1, -1])
            case .nonScalarBackward: _ = Tensor([1, 2, 3]).trackingGradients().exp().backward()
            case .seedShape: _ = Tensor([1, 2, 3]).trackingGradients().exp().backward(gradient: Tensor([1, 1]))
            case .customBackwardCount:
                let x = Tensor([1]).trackingGradients()
                _ = Tensor.recordOperation("broken", value: x.detached(), inputs: [x]) { g in [g, g] }.sum().backward()
            case .preluSlope: _ = Tensor.zeros([1, 3, 4]).prelu(slope: Tensor.zeros([2]))
            case .scalarsCount: _ = Tensor(shape: [2, 2], scalars: [1, 2, 3])
            case .indexOutOfRange: _ = m23.indexSelect(axis: 1, [0, 5])
            case .gatherRowsShape: _ = m23.gatherRows([0, 1, 2])
            case .itemOfVector: _ = Tensor([1, 2]).item
            case .narrowOutOfBounds: _ = Tensor.zeros([4]).narrowed(axis: 0, start: 2, length: 3)
            case .broadcastTo: _ = Tensor.zeros([3]).broadcast(to: [2, 4])
            case .badPermutation: _ = m23.permuted([0, 0])
            case .eigenNonSquare: _ = try? Linalg.symmetricEigen(m23)
            case .solveRightHandSide: _ = try? Linalg.solve(Tensor.ones([2, 2]), Tensor.ones([3]))
            case .emptyPoolPlanes: _ = Tensor.zeros([1, 1, 0, 4]).maxPool2d(kernelSize: 2, padding: 1)
            case .zeroSizeKernel: _ = Tensor.conv2d(Tensor.zeros([1, 1, 5, 5]), weight: Tensor.zeros([1, 1, 0, 0]))
            case .emptyBatchStatistics: _ = Tensor.batchNorm(Tensor.zeros([0, 3, 2, 2]), weight: nil, bias: nil)
            case .emptyGlobalAveragePool: _ = Tensor.zeros([2, 3, 0, 5]).globalAveragePool2d()
            case .maxOfEmptyAxis: _ = Tensor.zeros([3, 0]).max(alongAxis: 1)
            case .argmaxOfEmptyAxis: _ = Tensor.zeros([3, 0]).argmax(alongAxis: 1)
            case .infiniteRange: _ = Tensor.arange(0, .infinity)
            case .negativeDimension: _ = Tensor.full([-1], 0)
            case .frozenParameterChecked:
                let w = Parameter(Tensor([1, 2]), trainable: false)
                _ = GradientCheck.run([], parameters: [("w", w)]) { _ in w.value }
            case .parameterCheckedTwice:
                let w = Parameter(Tensor([1, 2]))
                _ = GradientCheck.run([], parameters: [("w", w), ("w again", w)]) { _ in w.value }
            case .releasedGraph:
                let h = Tensor([1, 2]).trackingGradients().exp()
                _ = h.sum().backward(retaining: .leaves)
                _ = (h * 2).sum().backward()
            }
        }
    }

    @Test(arguments: Misuse.allCases) func stopsWithAMessage(_ misuse: Misuse) async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [misuse] in
            misuse.commit()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(misuse.message), "standard error was:\n\(stderr.prefix(600))")
    }
}
