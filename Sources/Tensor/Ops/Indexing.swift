/// Gathering, index selection, scatter-add and one-hot encoding.
extension Tensor {
    /// The slices at `indices` along `axis`, in that order (PyTorch `index_select`).
    public func indexSelect(axis: Int, _ indices: [Int]) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "indexSelect")
        let (outer, n, inner) = Tensor.split(shape, axis: a)
        for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n) for axis \(a) of shape \(shape)") }
        var newShape = shape
        newShape[a] = indices.count
        let value = Tensor(shape: newShape) { out in
            let src = storage.base, dst = out.baseAddress!
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    memcpy(dst + (o * indices.count + j) * inner, src + (o * n + i) * inner, inner * 4)
                }
            }
        }
        guard Tensor.needsGradient(self) else { return value }
        let size = n
        return Tensor.recordOperation("indexSelect", value: value, inputs: [self]) { g in
            [g.scatterAdd(axis: a, indices, size: size)]
        }
    }

    /// The adjoint of ``indexSelect(axis:_:)``: slice `j` of `self` along `axis` is added to slice
    /// `indices[j]` of a zero tensor whose `axis` has `size` elements.
    public func scatterAdd(axis: Int, _ indices: [Int], size: Int) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "scatterAdd")
        precondition(shape[a] == indices.count, "scatterAdd: \(indices.count) indices for axis \(a) of shape \(shape)")
        for i in indices { precondition(i >= 0 && i < size, "scatterAdd: index \(i) out of range 0..<\(size)") }
        let (outer, m, inner) = Tensor.split(shape, axis: a)
        var newShape = shape
        newShape[a] = size
        let value = Tensor(shape: newShape) { out in
            let src = storage.base, dst = out.baseAddress!
            memset(dst, 0, out.count * 4)
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let d = dst + (o * size + i) * inner, s = src + (o * m + j) * inner
                    for e in 0..<inner { d[e] += s[e] }
                }
            }
        }
        guard Tensor.needsGradient(self) else { return value }
        return Tensor.recordOperation("scatterAdd", value: value, inputs: [self]) { g in [g.indexSelect(axis: a, indices)] }
    }

    /// One element per row: for a `[B, C]` tensor and `B` indices, `[self[b, indices[b]]]`
    /// (PyTorch `gather(1, index[:, None])`, flattened) — the target logit of each sample.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        precondition(rank == 2 && shape[0] == indices.count,
                     "gatherRows: needs a [B, C] tensor and B indices, got shape \(shape) and \(indices.count) indices")
        let columns = shape[1]
        for i in indices { precondition(i >= 0 && i < columns, "gatherRows: index \(i) out of range 0..<\(columns)") }
        let value = Tensor(shape: [indices.count]) { out in
            for (b, i) in indices.enumerated() { out[b] = storage.base[b * columns + i] }
        }
        guard Tensor.needsGradient(self) else { return value }
        let rows = shape[0]
        return Tensor.recordOperation("gatherRows", value: value, inputs: [self]) { g in
            [Tensor.oneHot(indices, classes: columns) * g.reshaped(to: [rows, 1])]
        }
    }

    /// `[labels.count, classes]` with 1 at each label and 0 elsewhere.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        for l in labels { precondition(l >= 0 && l < classes, "oneHot: label \(l) out of range 0..<\(classes)") }
        return Tensor(shape: [labels.count, classes]) { out in
            memset(out.baseAddress!, 0, out.count * 4)
            for (row, l) in labels.enumerated() { out[row * classes + l] = 1 }
        }
    }
}

import Foundation
