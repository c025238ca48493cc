import Testing
import Tensor
import Layers
@testable import Losses

@Suite("Weighted sums and the loss spec")
struct TransferSpecTests {
    let configuration = TransferLossConfiguration(studentEmbeddingDimension: 4, teacherEmbeddingDimension: 4, classes: 3, featureMap: "stage4")

    func context() -> TransferContext {
        let s = randomTensor([5, 4], seed: 70), t = randomTensor([5, 4], seed: 71)
        return TransferContext(student: Features(embedding: s, maps: ["stage4": randomTensor([5, 2, 3, 3], seed: 72)]),
                               teacher: Features(embedding: t, maps: ["stage4": randomTensor([5, 3, 3, 3], seed: 73)]),
                               labels: [0, 1, 2, 1, 0], progress: 0.3)
    }

    @Test func weightedSumReportsTermsAndTotals() {
        let ctx = context()
        let sum = WeightedTransferLoss([(5, FeatureL2Transfer()), (2, FeatureL2Transfer(distance: .cosine)), (50, NeuronSelectivityTransfer(map: "stage4"))])
        let step = sum.evaluate(ctx)
        #expect(step.terms.map(\.name) == ["l2", "l2#2", "nst"])
        expectClose(step.terms[0].value, FeatureL2Transfer()(ctx).item, "l2 term")
        expectClose(step.total.item, step.terms.map(\.weighted).reduce(0, +), "total")
        expectClose(sum(ctx).item, step.total.item, "callAsFunction")
        #expect(sum.name == "l2=5.0,l2#2=2.0,nst=50.0")
    }

    @Test func parsesTheIssueExample() throws {
        let loss = try TransferSpec.parse("l2=5,nst=50,darkrank-soft=16,adda", configuration: configuration)
        #expect(loss.terms.map(\.name) == ["l2", "nst", "darkrank-soft", "adda"])
        #expect(loss.terms.map(\.weight) == [5, 50, 16, 1])
        #expect(loss.criticParameters.count == 8, "ADDA's critic is exposed for the critic optimiser")
        #expect(loss.namedParameters().first?.name == "adda.critic.layer.0.weight")
        let ctx = context()
        #expect(loss(ctx).item.isFinite)
        #expect(loss.criticLoss(ctx).item.isFinite)
    }

    /// One loss twice with other options is two terms (NST on two maps); with the same options it
    /// is refused (see the error table).
    @Test func oneLossOnTwoMaps() throws {
        let loss = try TransferSpec.parse("nst:map=stage3,nst=10:map=stage4", configuration: configuration)
        #expect(loss.terms.map(\.name) == ["nst", "nst#2"] && loss.terms.map(\.weight) == [50, 10])
    }

    @Test func defaultsAndOptions() throws {
        let loss = try TransferSpec.parse("l2, nst:kernel=gaussian:teacher-term=drop, darkrank-hard=2:alpha=1:beta=2:k=3, kd:t=2, mmd:kernel=linear, dann:lambda=0.5, guided-cnn:feature=3",
                                          configuration: configuration)
        #expect(loss.terms.map(\.weight) == [5, 50, 2, 1, 1, 1, 1])
        let nst = try #require(loss.terms[1].loss as? NeuronSelectivityTransfer)
        #expect(nst.kernel == .gaussian() && !nst.includeTeacherTerm && nst.studentMap == "stage4")
        let dark = try #require(loss.terms[2].loss as? DarkRank)
        #expect(dark.mode == .hard(listLength: 3) && dark.alpha == 1 && dark.beta == 2)
        #expect((loss.terms[3].loss as? KnowledgeDistillation)?.temperature == 2)
        #expect((loss.terms[5].loss as? DANN)?.strength == .constant(0.5))
        #expect((loss.terms[6].loss as? GuidedCNN)?.crossFeatureWeight == 3)
        let projected = try TransferSpec.parse("l2", configuration: TransferLossConfiguration(studentEmbeddingDimension: 3, teacherEmbeddingDimension: 4))
        #expect(projected.namedParameters().map(\.name) == ["l2.projection.weight"])
        // The losses that feed both embeddings to one network (or kernel) need one dimension, and say so at parse time.
        for spec in ["adda", "dann", "guided-cnn", "mmd"] {
            #expect(throws: TransferSpecError.self, "\(spec)") {
                _ = try TransferSpec.parse(spec, configuration: TransferLossConfiguration(studentEmbeddingDimension: 3, teacherEmbeddingDimension: 4, classes: 3))
            }
        }
    }

    @Test(arguments: [
        ("l2=5,foo=3", "foo=3", "unknown loss 'foo'; known losses: l2, kd, mmd, nst, darkrank-soft, darkrank-hard, guided-cnn, dann, adda"),
        ("l2,nst,l2=3", "l2=3", "repeats 'l2' (the same loss with the same options); give it once, with the weights added"),
        ("adda,adda", "adda", "repeats 'adda'"),
        ("l2=abc", "l2=abc", "weight must be a non-negative number, got 'abc'"),
        ("nst:size=3", "nst:size=3", "unknown option 'size' for nst"),
        ("darkrank-soft:k=9", "darkrank-soft:k=9", "option 'k' needs an integer in 2...8, got '9'"),
        ("darkrank-soft:k=1", "darkrank-soft:k=1", "option 'k' needs an integer in 2...8, got '1'"),
        ("darkrank-hard:k=1", "darkrank-hard:k=1", "option 'k' needs an integer in 2...9223372036854775807, got '1'"),
        ("darkrank-hard:beta=200", "darkrank-hard:beta=200", "alpha·2^beta (the largest score, at distance 2 between unit-norm embeddings) must be at most 1e+30"),
        ("darkrank-soft:alpha=1e30:beta=30", "darkrank-soft:alpha=1e30:beta=30", "got alpha = 1e+30, beta = 30.0; lower alpha or beta"),
        ("kd:t=1e-45", "kd:t=1e-45", "option 't' needs a temperature in 0.001...1000.0 (smaller ones overflow logits / T"),
        ("kd:t=1e20", "kd:t=1e20", "option 't' needs a temperature in 0.001...1000.0"),
        // 4·254 + 254·65536 + 65536·2 = 16 778 232 weights with the critic's two outputs (one was counted).
        ("adda:hidden=254x65536", "adda:hidden=254x65536", "hidden widths 254x65536 make a critic of 16778232 weights, above the limit of 16777216"),
        ("mmd:kernel=cubic", "mmd:kernel=cubic", "option 'kernel' must be one of poly, linear, gaussian, multi-gaussian, got 'cubic'"),
        ("l2,,kd", "l2,,kd", "empty term"),
        ("", "", "empty spec; known losses"),
        ("adda:hidden=512x", "adda:hidden=512x", "positive widths"),
        ("adda:hidden=100000", "adda:hidden=100000", "hidden widths 100000 need at most 64 widths in 1...65536"),
        ("l2:distance", "l2:distance", "must be written name=value"),
    ])
    func errorsNameTheTokenAndListWhatIsKnown(spec: String, token: String, message: String) {
        do {
            _ = try TransferSpec.parse(spec, configuration: configuration)
            Issue.record("'\(spec)' should not parse")
        } catch let error as TransferSpecError {
            #expect(error.token == token)
            #expect(error.message.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// The spec's new bounds still accept their edges.
    @Test func boundsAreInclusive() throws {
        for spec in ["darkrank-soft:k=2", "darkrank-hard:k=2", "kd:t=0.001", "kd:t=1000", "darkrank-hard:alpha=1:beta=99"] {
            #expect(try TransferSpec.parse(spec, configuration: configuration).terms.count == 1, "\(spec)")
        }
    }

    @Test func missingConfigurationIsAnError() {
        let bare = TransferLossConfiguration(studentEmbeddingDimension: 4)
        #expect(throws: TransferSpecError.self) { try TransferSpec.parse("guided-cnn", configuration: bare) }
        #expect(throws: TransferSpecError.self) { try TransferSpec.parse("nst", configuration: bare) }
    }

    /// Which specs read the configuration's feature map, without dimensions to build them with;
    /// a spec that is not well formed throws the same error `parse` does.
    @Test func termsReadingTheConfiguredFeatureMap() throws {
        for (spec, reads) in [("nst", true), ("l2=5,nst=50", true), ("nst:map=stage2", false), ("nst:student-map=stage2", true),
                              ("nst:student-map=stage2:teacher-map=stage3", false), ("l2,adda", false), ("nst:map=a,nst=2:kernel=linear", true)] {
            #expect(try TransferSpec.readsConfiguredFeatureMap(spec) == reads, "\(spec)")
        }
        let malformed = #"nst:mapp=stage2"#
        let configuration = TransferLossConfiguration(studentEmbeddingDimension: 4, featureMap: "stage2")
        let error = try #require(throws: TransferSpecError.self) { try TransferSpec.readsConfiguredFeatureMap(malformed) }
        #expect(throws: error) { try TransferSpec.parse(malformed, configuration: configuration) }
    }
}

