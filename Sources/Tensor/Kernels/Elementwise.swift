import Foundation

/// A scalar function of one float, applied by ``Elementwise/map(_:_:)``.
///
/// The kernels are generic over the function type rather than taking a closure: once
/// specialised, the function is inlined into the loop, which then vectorises. A closure
/// captured by a parallel region is called indirectly for every element instead — measured
/// 10–12× slower than `memcpy` bandwidth on 4M floats, against ~1× with these types.
protocol UnaryFunction { func callAsFunction(_ x: Float) -> Float }

/// A scalar function of two floats, applied by ``Elementwise/zip(_:_:_:_:)`` with broadcasting.
protocol BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float }

/// Elementwise kernels: unary maps and binary maps with NumPy broadcasting.
///
/// Maps are plain loops over unsafe pointers with wrapping index arithmetic (the compiler
/// vectorises them); large tensors are split over ``parallelFor(_:grain:_:)``.
enum Elementwise {
    /// Elements per chunk below which a map stays on one thread.
    static let grain = 1 << 15

    /// `f(x)` elementwise.
    @inline(__always)
    static func map<F: UnaryFunction>(_ x: Tensor, _ f: F) -> Tensor {
        let storage = TensorStorage(count: x.count)
        let src = x.storage.base, dst = storage.base
        parallelFor(x.count, grain: grain) { range in
            var i = range.lowerBound
            while i < range.upperBound { dst[i] = f(src[i]); i &+= 1 }
        }
        return Tensor(shape: x.shape, storage: storage)
    }

    /// `f(a, b)` elementwise over the broadcast shape of `a` and `b`.
    @inline(__always)
    static func zip<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, _ function: StaticString, _ f: F) -> Tensor {
        let pa = a.storage.base, pb = b.storage.base
        if a.shape == b.shape {
            let storage = TensorStorage(count: a.count)
            let dst = storage.base
            parallelFor(a.count, grain: grain) { range in
                var i = range.lowerBound
                while i < range.upperBound { dst[i] = f(pa[i], pb[i]); i &+= 1 }
            }
            return Tensor(shape: a.shape, storage: storage)
        }
        let shape = Shape.broadcast(a.shape, b.shape, function)
        let plan = BroadcastPlan(shape: shape, a: a.shape, b: b.shape)
        let storage = TensorStorage(count: Shape.count(shape))
        let dst = storage.base
        let inner = plan.inner, sa = plan.innerStrideA, sb = plan.innerStrideB
        parallelFor(plan.outerCount, grain: max(1, grain / max(inner, 1))) { rows in
            for row in rows {
                let (oa, ob) = plan.offsets(ofRow: row)
                let d = dst + row &* inner, ra = pa + oa, rb = pb + ob
                if sa == 1 && sb == 1 {
                    for j in 0..<inner { d[j] = f(ra[j], rb[j]) }
                } else if sa == 1 {
                    let vb = rb[0]
                    for j in 0..<inner { d[j] = f(ra[j], vb) }
                } else if sb == 1 {
                    let va = ra[0]
                    for j in 0..<inner { d[j] = f(va, rb[j]) }
                } else {
                    let value = f(ra[0], rb[0])
                    for j in 0..<inner { d[j] = value }
                }
            }
        }
        return Tensor(shape: shape, storage: storage)
    }
}

/// How to walk two inputs broadcast to a common shape: the output is seen as `outerCount`
/// rows of `inner` contiguous elements; inside a row each input advances with stride 1 or 0.
struct BroadcastPlan {
    let inner: Int
    let innerStrideA: Int
    let innerStrideB: Int
    let outerCount: Int
    private let outerShape: [Int]
    private let outerStridesA: [Int]
    private let outerStridesB: [Int]

    init(shape: [Int], a: [Int], b: [Int]) {
        // Merge adjacent dimensions that broadcast the same way, so that e.g. a per-channel
        // bias [1, C, 1, 1] over [N, C, H, W] becomes rows of H·W elements.
        var dims: [(size: Int, sa: Int, sb: Int)] = []
        let stridesA = Shape.broadcastStrides(a, to: shape), stridesB = Shape.broadcastStrides(b, to: shape)
        for axis in shape.indices where shape[axis] != 1 {
            let d = (size: shape[axis], sa: stridesA[axis], sb: stridesB[axis])
            if let last = dims.last,
               (last.sa == 0) == (d.sa == 0), (last.sb == 0) == (d.sb == 0),
               last.sa == 0 || last.sa == d.sa * d.size, last.sb == 0 || last.sb == d.sb * d.size {
                dims[dims.count - 1] = (last.size * d.size, d.sa, d.sb)
            } else {
                dims.append(d)
            }
        }
        let innermost = dims.popLast() ?? (1, 0, 0)
        inner = innermost.size
        innerStrideA = innermost.sa == 0 ? 0 : 1
        innerStrideB = innermost.sb == 0 ? 0 : 1
        outerShape = dims.map(\.size)
        outerStridesA = dims.map(\.sa)
        outerStridesB = dims.map(\.sb)
        outerCount = outerShape.reduce(1, *)
    }

    /// Offsets into `a` and `b` of the first element of output row `row`.
    @inline(__always)
    func offsets(ofRow row: Int) -> (Int, Int) {
        var rest = row, oa = 0, ob = 0
        var axis = outerShape.count &- 1
        while axis >= 0 {
            let size = outerShape[axis]
            let i = rest % size
            rest /= size
            oa &+= i &* outerStridesA[axis]
            ob &+= i &* outerStridesB[axis]
            axis &-= 1
        }
        return (oa, ob)
    }
}

// MARK: - Scalar functions used by the operations

/// The scalar functions of the elementwise operations (see ``UnaryFunction``).
extension Elementwise {
    struct Negate: UnaryFunction { func callAsFunction(_ x: Float) -> Float { -x } }
    struct Abs: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Swift.abs(x) } }
    struct Sign: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    struct Square: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x * x } }
    struct Sqrt: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
    struct Rsqrt: UnaryFunction { func callAsFunction(_ x: Float) -> Float { 1 / x.squareRoot() } }
    struct Exp: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.exp(x) } }
    struct Log: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
    struct Tanh: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) } }
    struct Sin: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.sin(x) } }
    struct Cos: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.cos(x) } }
    struct Acos: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.acos(x) } }
    /// `1 / (1 + e⁻ˣ)`, evaluated so that neither branch overflows.
    struct Sigmoid: UnaryFunction {
        func callAsFunction(_ x: Float) -> Float {
            x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
        }
    }
    /// `max(x, 0)`; NaN propagates (as PyTorch's), so a diverged value is not hidden as 0.
    struct Relu: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x > 0 || x.isNaN ? x : 0 } }
    struct LeakyRelu: UnaryFunction {
        let slope: Float
        func callAsFunction(_ x: Float) -> Float { x > 0 ? x : slope * x }
    }
    struct Clamp: UnaryFunction {
        let lower: Float, upper: Float
        func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, lower), upper) }
    }
    struct AddScalar: UnaryFunction {
        let b: Float
        func callAsFunction(_ x: Float) -> Float { x + b }
    }
    struct SubtractFromScalar: UnaryFunction {
        let a: Float
        func callAsFunction(_ x: Float) -> Float { a - x }
    }
    struct Scale: UnaryFunction {
        let b: Float
        func callAsFunction(_ x: Float) -> Float { x * b }
    }
    /// `x / b`, a true division (`x · (1/b)` overflows for tiny `b` and rounds differently).
    struct DivideBy: UnaryFunction {
        let b: Float
        func callAsFunction(_ x: Float) -> Float { x / b }
    }
    struct DivideScalar: UnaryFunction {
        let a: Float
        func callAsFunction(_ x: Float) -> Float { a / x }
    }
    struct PowScalar: UnaryFunction {
        let p: Float
        func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, p) }
    }
    /// 1 where non-zero, else 0.
    struct NonZero: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x != 0 ? 1 : 0 } }
    struct ReplaceNonFinite: UnaryFunction {
        let value: Float
        func callAsFunction(_ x: Float) -> Float { x.isFinite ? x : value }
    }

    struct Add: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
    struct Subtract: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
    struct Multiply: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
    struct Divide: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
    struct Pow: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) } }
    /// The larger value, `a` on ties; NaN propagates.
    struct Maximum: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a >= b || a.isNaN ? a : b } }
    /// The smaller value, `a` on ties; NaN propagates.
    struct Minimum: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a <= b || a.isNaN ? a : b } }
    struct Greater: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 } }
    struct GreaterEqual: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 } }
    struct Equal: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 } }
    /// Gradient `g` passed where the input `x > 0` or is NaN (ReLU backward; NaN is not hidden).
    struct ReluGradient: BinaryFunction { func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 || x.isNaN ? g : 0 } }
    struct LeakyReluGradient: BinaryFunction {
        let slope: Float
        func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : slope * g }
    }
    /// Gradient `g` passed where the input lay inside `[lower, upper]`.
    struct ClampGradient: BinaryFunction {
        let lower: Float, upper: Float
        func callAsFunction(_ g: Float, _ x: Float) -> Float { x >= lower && x <= upper ? g : 0 }
    }
}
