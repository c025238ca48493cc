import Foundation
import Tensor
import Datasets
import Training

// Writes the seed corpus of every fuzz target (Fuzz/Corpus/<target>/), made by the project's
// own writers where it has one: `fuzz-seeds <corpus folder>`. Files are kept small (the
// fuzzers' default input limit is 4 KiB).

// Built with the fuzz targets (same flags), the fuzzer runtime wants an input function; this
// executable's own top-level code runs instead of libFuzzer's driver, so it is never called.
@_cdecl("LLVMFuzzerTestOneInput")
func unusedFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { 0 }

let root = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Fuzz/Corpus")
let separator = Array("\n==\n".utf8)

func seed(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
    let folder = root.appendingPathComponent(target)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data(bytes).write(to: folder.appendingPathComponent(name))
}

func seed(_ target: String, _ name: String, _ text: String) throws { try seed(target, name, Array(text.utf8)) }

/// A small test card: a gradient with a bright square, grey or RGB.
func card(width: Int, height: Int, channels: Int) -> Image {
    var pixels = [Float](repeating: 0, count: width * height * channels)
    for c in 0..<channels {
        for y in 0..<height {
            for x in 0..<width {
                let square = x >= width / 4 && x < 3 * width / 4 && y >= height / 4 && y < 3 * height / 4
                pixels[(c * height + y) * width + x] = square ? 230 : Float((x * 255 / max(1, width - 1) + 40 * c) % 256)
            }
        }
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// Big-endian IDX bytes (type 0x08).
func idx(_ dimensions: [Int], _ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
    for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    return out + data
}

let grey = card(width: 6, height: 4, channels: 1), rgb = card(width: 5, height: 3, channels: 3)

// Images.
try seed("fuzz-pnm", "grey-8bit.pgm", PNM.encode(grey))
try seed("fuzz-pnm", "rgb-16bit.ppm", PNM.encode(rgb, sixteenBit: true))
try seed("fuzz-pnm", "grey-text.pgm", "P2\n# a comment\n3 2\n15\n0 5 10\n15 7 1\n")
try seed("fuzz-pnm", "rgb-text.ppm", "P3\n2 1\n255\n255 0 0 0 255 0\n")
try seed("fuzz-png", "grey.png", PNG.encode(grey))
try seed("fuzz-png", "rgb.png", PNG.encode(rgb))
try seed("fuzz-jpeg", "grey.jpg", JPEG.encode(card(width: 8, height: 8, channels: 1), quality: 75))
try seed("fuzz-jpeg", "rgb.jpg", JPEG.encode(card(width: 16, height: 16, channels: 3), quality: 50))

// RecordIO: `.idx` text, separator, `.rec` bytes; one record holds the magic word so that it
// is split into parts.
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crossres-seeds-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }
let rec = scratch.appendingPathComponent("a.rec"), recIndex = scratch.appendingPathComponent("a.idx")
let writer = try RecordIOWriter(rec: rec, idx: recIndex)
try writer.write(key: 0, payload: RecordIO.pack(RecordIO.Header(label: 3, id: 7), PNM.encode(grey)))
try writer.write(key: 5, payload: RecordIO.pack(RecordIO.Header(labels: [1, 2]), [0x0A, 0x23, 0xD7, 0xCE, 1, 2, 3]))
try writer.finish()
let recBytes = [UInt8](try Data(contentsOf: rec)), indexBytes = [UInt8](try Data(contentsOf: recIndex))
try seed("fuzz-recordio", "indexed", indexBytes + separator + recBytes)
try seed("fuzz-recordio", "scanned", recBytes)

// Verification `.bin`: two pairs of tiny encoded images.
let pair = [try PNG.encode(grey), PNM.encode(grey), try JPEG.encode(card(width: 8, height: 8, channels: 1), quality: 40), PNM.encode(rgb)]
try seed("fuzz-pickle", "two-pairs.bin", VerificationBin(images: pair, isSame: [true, false]).encoded())
try seed("fuzz-pickle", "empty.bin", VerificationBin(images: [], isSame: []).encoded())

// MNIST IDX: images, separator, labels.
let digits = (0..<(2 * 4 * 4)).map { UInt8($0 * 8 % 256) }
try seed("fuzz-idx", "two-digits", idx([2, 4, 4], digits) + separator + idx([2], [3, 9]))
try seed("fuzz-idx", "one-digit", idx([1, 2, 3], [0, 50, 100, 150, 200, 250]) + separator + idx([1], [0]))

// Text digits: mode byte, then the file.
let usps = "7 " + (0..<256).map { String(format: "%.4f", Float($0 % 17) / 8 - 1) }.joined(separator: " ") + "\n"
try seed("fuzz-digits-text", "usps.txt", [0] + Array(usps.utf8))
try seed("fuzz-digits-text", "mnist.csv", [1] + Array(((0..<784).map { String($0 % 256) } + ["4"]).joined(separator: ",").utf8) + [0x0A])
try seed("fuzz-digits-text", "small.csv", [2] + Array("0,128,255,3,1\n12,0,7.5e1,9,0\r\n".utf8))

// gzip and DEFLATE seeds are written by scripts/fuzz.sh with the system's gzip (the project
// reads gzip but does not write it).

// Degradation specs, in canonical form.
for (n, spec) in ["size=8..32,interp=bicubic,blur=0..1.2,jpeg=30..90,up=112", "scale=4,interp=area,antialias=false,noise=2,occlude=0.1..0.3,p=0.5",
                  "size=8|12|16,up=hr,upinterp=nearest", "none"].enumerated() {
    try seed("fuzz-degradation-spec", "spec\(n)", try Degradation(parsing: spec).description)
}

// Transfer specs.
for (n, spec) in ["l2=5,nst=50", "kd=1:t=4,l2:distance=cosine", "darkrank-soft:k=3:alpha=3:beta=3:objective=ce", "darkrank-hard=2:k=2:queries=first-half",
                  "adda:hidden=16x16:activation=relu", "guided-cnn:s=30:m=0.3:feature=5", "dann:lambda=0.5,mmd:kernel=linear:normalize=false",
                  "nst:map=stage3:kernel=gaussian:teacher-term=drop"].enumerated() {
    try seed("fuzz-transfer-spec", "spec\(n)", spec)
}

// Safetensors: every dtype, metadata.
var tensors = Safetensors(tensors: ["a.weight": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 5, -6]), "b.bias": Tensor([1, 0, 1]),
                                    "c.count": Tensor([7, 255]), "d.half": Tensor(shape: [1, 1, 2], scalars: [0.5, -1])],
                          metadata: ["epoch": "3", "model": "smallfacenet"])
tensors.dtypes["b.bias"] = .bool
tensors.dtypes["c.count"] = .u8
tensors.dtypes["d.half"] = .f16
try seed("fuzz-safetensors", "mixed.safetensors", [UInt8](tensors.encoded()))
try seed("fuzz-safetensors", "empty.safetensors", [UInt8](Safetensors(tensors: [:]).encoded()))

// Run settings as `settings.json` writes them.
var teacher = TrainingConfiguration()
teacher.data = "synthetic:identities=4,images=2,size=16"
teacher.steps = 10
try seed("fuzz-run-config", "teacher.json", [UInt8](try teacher.jsonData()))
var student = DistillationConfiguration()
student.training = teacher
student.teacher = "teacher.safetensors"
student.transfer = "l2=5,nst=50"
student.degrade = "size=8..16,up=hr"
try seed("fuzz-run-config", "student.json", [UInt8](try student.jsonData()))
try seed("fuzz-run-config", "flags.json", #"{"steps": "100", "sizes": "8,12,16", "lr": 0.002, "flip": "no", "data": "synthetic"}"#)

// Command lines, NUL-separated.
try seed("fuzz-arguments", "distill", ["--teacher", "runs/teacher", "--data", "synthetic:identities=4,images=2,size=16",
                                       "--transfer", "l2=5,adda", "--steps", "10", "--batch", "8", "--distributed"].joined(separator: "\0"))
try seed("fuzz-arguments", "demo", ["--quick", "--seeds", "1,2,3", "--output", "runs/demo", "--help"].joined(separator: "\0"))

// The study configuration.
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]
try seed("fuzz-study-config", "quick.json", [UInt8](try encoder.encode(CrossResolutionStudy.Configuration.quick)))
