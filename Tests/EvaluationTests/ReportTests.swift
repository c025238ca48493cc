import Foundation
import FoundationXML
import Testing
import Tensor
@testable import Evaluation

/// Markdown, JSON and SVG reports.
struct ReportTests {
    let world = SweepFixture()

    func report() throws -> SweepReport {
        let pairs = world.pairs
        let sweep = CrossResolutionSweep(resolutions: [.pixels(8), .pixels(16), .native],
                                         extractor: EmbeddingExtractor(flipTestTimeAugmentation: false))
        return try sweep.run(.verification(issame: pairs.issame), probeModel: SweepFixture.student,
                             galleryModel: SweepFixture.teacher, metadata: ["degradation": "additive noise 16/s"]) { side, r in
            side == .gallery ? world.images(pairs.first, resolution: r, noiseOffset: 0) : world.images(pairs.second, resolution: r, noiseOffset: 40)
        }
    }

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("crossres-eval-\(UUID().uuidString)")
    }

    @Test func markdownHasOneRowPerSizeAndAColumnPerMode() throws {
        let text = MarkdownReport.sweep(try report())
        #expect(text.contains("| Probe size | LR-vs-LR | HR-vs-LR | teacher-HR vs student-LR |"))
        #expect(text.contains("| native | 100.00 ± 0.00 | 100.00 ± 0.00 |"))
        for size in ["| 8 |", "| 16 |"] { #expect(text.contains(size)) }
        // 20 impostor pairs cannot resolve FAR = 1e-2 or 1e-4.
        #expect(text.contains("n/a"))
        #expect(text.contains("- degradation: additive noise 16/s"))
    }

    @Test func jsonRoundTripsEveryNumberAndSetting() throws {
        let original = try report()
        let url = temporaryDirectory().appendingPathComponent("sweep.json")
        try ReportWriter.writeJSON(original, to: url)
        let decoded = try ReportWriter.readJSON(SweepReport.self, from: url)
        #expect(decoded == original)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\"Infinity\""))
        #expect(text.contains("\"native\""))
        // The temporary file of the atomic write is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["sweep.json"])
        try FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }

    @Test func corruptJSONIsAClearError() throws {
        let url = temporaryDirectory().appendingPathComponent("bad.json")
        try ReportWriter.write("{\"task\": 3", to: url)
        #expect(throws: EvaluationError.self) { try ReportWriter.readJSON(SweepReport.self, from: url) }
        #expect(throws: EvaluationError.self) { try ReportWriter.readJSON(SweepReport.self, from: url.appendingPathExtension("missing")) }
        // A well-formed file whose entry holds no result is corrupt (its Markdown trapped).
        try ReportWriter.writeJSON(try report(), to: url)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var entries = try #require(object["entries"] as? [[String: Any]])
        entries[0]["verification"] = nil
        object["entries"] = entries
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        let error = try #require(throws: EvaluationError.self) { try ReportWriter.readJSON(SweepReport.self, from: url) }
        #expect("\(error)".contains("either a verification or an identification result"), "\(error)")
        try FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }

    /// A report whose numbers no evaluation could have written is corrupt: rendering it trapped
    /// (an empty ROC's AUC, a task that disagrees with its entries, probe ranks without probes).
    @Test func impossibleNumbersAreCorrupt() throws {
        let url = temporaryDirectory().appendingPathComponent("bad.json")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        func expectCorrupt(_ text: String, _ change: (inout [String: Any]) throws -> Void) throws {
            try ReportWriter.writeJSON(try report(), to: url)
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            try change(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: url)
            let error = try #require(throws: EvaluationError.self) { try ReportWriter.readJSON(SweepReport.self, from: url) }
            #expect("\(error)".contains(text), "\(error)")
        }
        func editROC(_ object: inout [String: Any], _ edit: (inout [[String: Any]]) -> Void) throws {
            var entries = try #require(object["entries"] as? [[String: Any]])
            var verification = try #require(entries[0]["verification"] as? [String: Any])
            var roc = try #require(verification["roc"] as? [String: Any])
            var points = try #require(roc["points"] as? [[String: Any]])
            edit(&points)
            roc["points"] = points; verification["roc"] = roc; entries[0]["verification"] = verification
            object["entries"] = entries
        }
        try expectCorrupt("0 points") { try editROC(&$0) { $0 = [] } }
        try expectCorrupt("not (1, 1)") { try editROC(&$0) { $0.removeLast() } }
        try expectCorrupt("falls below") { try editROC(&$0) { $0.swapAt(1, $0.count - 2) } }
        try expectCorrupt("neither") { $0["task"] = "Verification" }
        try expectCorrupt("must be at least 1") {
            var settings = try #require($0["settings"] as? [String: Any])
            settings["ranks"] = [0]
            $0["settings"] = settings
        }
        try expectCorrupt("does not hold a identification result") { $0["task"] = "identification" }
        // An identification result whose probe ranks disagree with its probe count.
        let result = try Identification.evaluate(gallery: Tensor([[1, 0], [0, 1]]), galleryLabels: [0, 1],
                                                 probes: Tensor([[1, 0]]), probeLabels: [0])
        try ReportWriter.writeJSON(result, to: url)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["probeRanks"] = [Int]()
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        let error = try #require(throws: EvaluationError.self) { try ReportWriter.readJSON(IdentificationResult.self, from: url) }
        #expect("\(error)".contains("0 probe ranks"), "\(error)")
    }

    @Test func headlinesNameTheFoldCount() throws {
        let pairs = world.pairs
        let settings = VerificationSettings(kFold: KFoldVerification(folds: 5))
        let report = try CrossResolutionSweep(resolutions: [.native], extractor: EmbeddingExtractor(flipTestTimeAugmentation: false),
                                              verification: settings)
            .run(.verification(issame: pairs.issame), probeModel: SweepFixture.student) { side, r in
                side == .gallery ? world.images(pairs.first, resolution: r, noiseOffset: 0) : world.images(pairs.second, resolution: r, noiseOffset: 40)
            }
        #expect(MarkdownReport.sweep(report).contains("Headline: 5-fold accuracy"))
        #expect(Plots.accuracyVersusResolution([("", report)]).render().contains("5-fold accuracy (%)"))
    }

    /// The log-FAR axis starts strictly below the smallest non-zero FAR, so FAR = 0 points (drawn
    /// at the axis minimum) stay apart from a first real point at a power of ten.
    @Test func rocAxisStartsBelowTheSmallestFalseAccept() throws {
        // 10 impostors: the smallest non-zero FAR is 0.1.
        let curve = try ROCCurve(scores: (0..<12).map(Double.init), isGenuine: [true, true] + Array(repeating: false, count: 10))
        #expect(Plots.roc([("a", curve)]).x.range == 0.01...1)
        #expect(Plots.roc([("a", curve)], minimumFAR: 1e-3).x.range == 0.001...1)
    }

    @Test func rocPlotIsWellFormedWithOneCurvePerModel() throws {
        let sweep = try report()
        let curves = [("HR-vs-LR 8 px", sweep.entry(.hrVsLr, .pixels(8))!.verification!.roc),
                      ("LR-vs-LR 8 px", sweep.entry(.lrVsLr, .pixels(8))!.verification!.roc),
                      ("teacher & student <native>", sweep.entry(.crossModel, .native)!.verification!.roc)]
        let svg = Plots.roc(curves.map { (name: $0.0, curve: $0.1) }, title: "ROC on \"pairs\"").render()
        let document = try SVGSummary(svg)
        #expect(document.root == "svg")
        #expect(document.seriesNames == curves.map(\.0))
        #expect(document.texts.contains("ROC on \"pairs\""))
        #expect(document.texts.contains("False accept rate (FAR)"))
        // Log axis from 10^-2 (20 impostors) to 1: decade ticks.
        #expect(document.texts.contains("10-2") && document.texts.contains("1"))
    }

    @Test func accuracyAndCMCPlots() throws {
        let sweep = try report()
        let accuracy = try SVGSummary(Plots.accuracyVersusResolution([("student", sweep)]).render())
        #expect(accuracy.seriesNames == sweep.modes.map { "student · \($0.title)" })
        #expect(["8", "16", "native"].allSatisfy(accuracy.texts.contains))
        let probes = Tensor([[1, 0], [0.6, 0.8]]), gallery = Tensor([[1, 0], [0, 1], [0.8, 0.6]])
        let a = try Identification.evaluate(gallery: gallery, galleryLabels: [0, 1, 2], probes: probes, probeLabels: [0, 1])
        let cmc = try SVGSummary(Plots.cmc([("a", a), ("b", a)]).render())
        #expect(cmc.seriesNames == ["a", "b"])
        let url = temporaryDirectory().appendingPathComponent("cmc.svg")
        try Plots.cmc([("a", a)]).write(to: url)
        #expect(try SVGSummary(String(contentsOf: url, encoding: .utf8)).seriesNames == ["a"])
        try FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }
}

/// An SVG parsed with Foundation's XMLParser: the root element, curve names and all text.
final class SVGSummary: NSObject, XMLParserDelegate {
    private(set) var root = ""
    private(set) var seriesNames: [String] = []
    private(set) var texts: [String] = []
    private var text = "", depth = 0

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw parser.parserError ?? EvaluationError(.fileSystem, "SVG did not parse")
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if root.isEmpty { root = name }
        if name == "polyline", attributes["class"] == "series" { seriesNames.append(attributes["data-name"] ?? "") }
        if name == "text" { depth += 1; if depth == 1 { text = "" } }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if depth > 0 { text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { depth -= 1; if depth == 0 { texts.append(text) } }
    }
}
