import Testing
import Tensor
import Losses

/// Transfer specs the fuzz target (fuzz-transfer-spec) found: each once passed parsing and
/// then trapped in a loss's precondition, or asked for an unbounded allocation; each must now
/// be a ``TransferSpecError`` naming the token.
struct TransferSpecFuzzRegressionTests {
    private let configuration = TransferLossConfiguration(studentEmbeddingDimension: 8, classes: 5)

    @Test(arguments: [
        "guided-cnn:m=4",            // ArcFace margin outside [0, π): precondition in ArcFaceMargin
        "guided-cnn:m=-0.1",
        "guided-cnn:guide=-1",       // negative weights: precondition in GuidedCNN
        "guided-cnn:learner=-2",
        "guided-cnn:feature=-5",
        "dann:lambda=-1",            // negative reversal strength: precondition in gradientReversal at the first step
        "adda:hidden=100000x100000", // a 10¹⁰-weight critic
        "adda:hidden=4096x4096x4096x4096x4096",
        "adda:hidden=" + Array(repeating: "1", count: 65).joined(separator: "x"),
    ])
    func rejected(_ spec: String) {
        #expect(throws: TransferSpecError.self) { _ = try TransferSpec.parse(spec, configuration: configuration) }
    }

    @Test func boundsStillAccepted() throws {
        for spec in ["guided-cnn:m=0", "guided-cnn:m=3.14", "guided-cnn:guide=0", "dann:lambda=0"] {
            #expect(try TransferSpec.parse(spec, configuration: configuration).terms.count == 1, "\(spec)")
        }
        // A 1024×1024 critic (about 1.6 M weights over the embeddings) is under the limit and built as asked.
        let adda = try TransferSpec.parse("adda:hidden=1024x1024", configuration: configuration)
        let weights = adda.criticParameters.map(\.value.count).reduce(0, +)
        #expect(weights > 1024 * 1024 && weights <= TransferSpec.Limits.maximumCriticWeights, "\(weights) critic weights")
    }
}
