import Foundation
import Testing
@testable import Datasets
import TestSupport

@Suite(.enabled(if: Fixtures.hasPillow, "python3 with pillow and numpy is not installed"))
struct VerificationBinTests {
    /// `.bin` files pickled by Python exactly as insightface's `lfw2pack.py` does
    /// (`pickle.dump((bins, issame_list), f, protocol=pickle.HIGHEST_PROTOCOL)`), and at the
    /// older protocols (2 writes `bytes` through `_codecs.encode`, 0 is text).
    @Test func readsPythonPickles() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run(Fixtures.pillowPrelude + """
        import pickle, io
        bins = []
        for i in range(6):
            b = io.BytesIO(); Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(b, format='PNG'); bins.append(b.getvalue())
        bins.append(b'x' * 300); bins.append(bytes(range(256)))
        issame = [True, False, True, False]
        for p in [0, 2, 3, 4, 5]:
            pickle.dump((bins, issame), open(f'p{p}.bin', 'wb'), protocol=p)
        pickle.dump((bins, [True, False] * 1200), open('long.bin', 'wb'), protocol=4)
        pickle.dump((bins * 300, [True, False] * 600), open('many.bin', 'wb'), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump((bins, np.array(issame)), open('numpy.bin', 'wb'))
        pickle.dump({'a': 1}, open('dict.bin', 'wb'))
        for i, b in enumerate(bins): open(f'img{i}', 'wb').write(b)
        """, in: dir)
        let expected = try (0..<8).map { try Fixtures.bytes(dir.appendingPathComponent("img\($0)")) }
        for p in [0, 2, 3, 4, 5] {
            let bin = try VerificationBin(contentsOf: dir.appendingPathComponent("p\(p).bin"))
            #expect(bin.images == expected, "protocol \(p)")
            #expect(bin.isSame == [true, false, true, false], "protocol \(p)")
        }
        let bin = try VerificationBin(contentsOf: dir.appendingPathComponent("p5.bin"))
        #expect(try bin.image(at: 0).width == 8)
        let pairs = bin.pairList(folds: 2)
        #expect(pairs.pairs.map(\.fold) == [0, 0, 1, 1] && pairs.pairs[1] == VerificationPair(first: 2, second: 3, isSame: false, fold: 0))
        // scikit-learn's KFold layout (as the k-fold protocol scores them): the first n mod k folds hold one more.
        #expect(bin.pairList(folds: 3).pairs.map(\.fold) == [0, 0, 1, 2])
        #expect(throws: DatasetError.self) { try VerificationBin(contentsOf: dir.appendingPathComponent("long.bin")) }
        #expect(try VerificationBin(contentsOf: dir.appendingPathComponent("many.bin")).pairCount == 1200)
        for bad in ["numpy.bin", "dict.bin"] {
            do {
                _ = try VerificationBin(contentsOf: dir.appendingPathComponent(bad))
                Issue.record("\(bad) should not load")
            } catch let error as DatasetError {
                #expect(error.description.contains(bad) && error.description.contains("unsupported"), "\(error)")
            }
        }
        let truncated = dir.appendingPathComponent("cut.bin")
        try Array(try Fixtures.bytes(dir.appendingPathComponent("p4.bin")).prefix(200)).write(to: truncated)
        #expect(throws: DatasetError.self) { try VerificationBin(contentsOf: truncated) }
    }

    @Test func pythonReadsWhatWeWrite() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let faces = SyntheticFaces(identities: 4, imagesPerIdentity: 3, size: 12, seed: 1)
        let pairs = try PairList.lfwStyle(labels: faces.labels, folds: 2, pairsPerFold: 4, seed: 3)
        let bin = try VerificationBin(dataset: faces, pairs: pairs, format: .png)
        let url = dir.appendingPathComponent("ours.bin")
        try bin.write(to: url)
        #expect(try VerificationBin(contentsOf: url).images == bin.images)
        let out = try Python.run("""
        import pickle, io
        from PIL import Image
        bins, issame = pickle.load(open('ours.bin', 'rb'), encoding='bytes')
        print(len(bins), issame, Image.open(io.BytesIO(bins[0])).size)
        """, in: dir)
        #expect(out == "16 \(bin.isSame.map { $0 ? "True" : "False" }) (12, 12)\n".replacingOccurrences(of: "\"", with: ""))
    }
}

/// Files that are not pickles at all (a text file, a `.rec`) given as pairs: the error says so
/// (it said only "pickle: memo key 105 missing at byte 0" or "unsupported opcode 0xa").
struct VerificationBinKindTests {
    @Test func filesOfAnotherKindAreNamedAsSuch() {
        let others: [(String, [UInt8], String)] = [("pairs.txt", Array("hi there\n".utf8), "pickle: memo key 105 missing at byte 0"),
                                                   ("train.rec", [0x0A, 0x23, 0xD7, 0xCE, 24, 0, 0, 0], "pickle: unsupported opcode 0xa at byte 0")]
        for (name, bytes, detail) in others {
            let error = try? #require(throws: DatasetError.self) { try VerificationBin(bytes: bytes, name: name) }
            #expect(error?.description == "\(name): not a pickled pairs file (an insightface verification .bin): \(detail)"
                    + (detail.contains("opcode") ? " (only byte strings, booleans and lists are read)" : ""), "\(String(describing: error))")
        }
        // A pickle (protocol 2+) of the wrong content keeps the reader's message.
        let cut = try? #require(throws: DatasetError.self) { try VerificationBin(bytes: [0x80, 4, 0x5D], name: "cut.bin") }
        #expect(cut?.message.hasPrefix("pickle: ") == true, "\(String(describing: cut))")
    }
}
