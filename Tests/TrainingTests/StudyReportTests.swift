import Foundation
import Testing
import CrossRes

/// The demo's report tables: mean ± standard deviation over the student seeds, and one seed's
/// value alone (a standard deviation over one seed is undefined, not 0).
struct StudyReportTests {
    /// A study result whose `l2` students (one per seed) have rank-1 rates `rates` at 8 px.
    func result(seeds rates: [Double]) throws -> CrossResolutionStudy.Result {
        func object<T: Encodable>(_ value: T) throws -> Any { try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: .fragmentsAllowed) }
        func sweep(_ rate: Double) throws -> [String: Any] {
            let ranks = [1, 2].map { $0 <= Int(rate * 2) ? 1 : 2 }
            return ["settings": try object(CrossResolutionSweep(resolutions: [.pixels(8)], modes: [.hrVsLr])), "task": "identification",
                    "modes": try object([SweepMode.hrVsLr]), "metadata": [String: String](),
                    "entries": [["mode": try object(SweepMode.hrVsLr), "resolution": try object(ProbeResolution.pixels(8)),
                                 "identification": ["probeCount": 2, "galleryCount": 2, "rankAccuracies": [["rank": 1, "rate": rate]],
                                                    "cmc": [rate, 1.0], "probeRanks": ranks]]]]
        }
        var configuration = CrossResolutionStudy.Configuration.quick
        configuration.seeds = (1...rates.count).map(UInt64.init)
        configuration.families = [.init(name: "l2", transfer: "l2=5")]
        let students = try zip(configuration.seeds, rates).map { seed, rate -> [String: Any] in
            ["family": "l2", "seed": seed, "seconds": 1.0, "finalTerms": [String: Float](), "verification": try sweep(rate), "identification": try sweep(rate)]
        }
        let json: [String: Any] = ["configuration": try object(configuration), "dataset": "test", "teacherTerms": [String: Float](),
                                   "teacherSeconds": 1.0, "teacherVerification": try sweep(1), "students": students]
        return try JSONDecoder().decode(CrossResolutionStudy.Result.self, from: JSONSerialization.data(withJSONObject: json))
    }

    @Test func oneSeedIsReportedWithoutASpread() throws {
        let one = StudyReport(try result(seeds: [0.5]))
        #expect(one.statistic("l2", .hrVsLr, .pixels(8), identification: true)?.std == nil)
        #expect(one.table(.hrVsLr, identification: true).contains("| l2 | 0.500 |"))
        #expect(one.markdown.contains("Cells: the one seed's value (no standard deviation).") && !one.markdown.contains("± 0.000"))
        let two = StudyReport(try result(seeds: [0.5, 1]))
        #expect(two.table(.hrVsLr, identification: true).contains("| l2 | 0.750 ± 0.250 |"))
        #expect(two.markdown.contains("Cells: mean ± std over seeds."))
    }
}
