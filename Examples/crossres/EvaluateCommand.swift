import CrossRes

/// `crossres evaluate`: the cross-resolution sweep of trained weights.
enum EvaluateCommand {
    static let options = EvaluationConfiguration.options + RunFolderOptions.report

    static let help = CommandHelp.text(
        "evaluate", synopsis: "--weights PATH (--data DATA | --pairs FILE.bin) --output DIR [--teacher-weights PATH] [options]",
        summary: "Verification (10-fold accuracy, AUC, EER, TAR@FAR) and rank-k identification at every probe size and natively: LR-vs-LR,\nHR-vs-LR and, with --teacher-weights, teacher-HR gallery vs student-LR probe. Writes report.md, report.json,\nverification.svg and, with --data, identification.svg.",
        options: options, defaults: EvaluationConfiguration.defaultDescription(_:),
        notes: ["Identification uses --data: the first image of each identity is the gallery, the others are probes.",
                "Weights written by CrossRes name their model; others need --model (and --embedding-size/--input-size if not the defaults)."],
        example: "crossres evaluate --weights runs/student-l2-adda --teacher-weights runs/teacher --data synthetic:identities=20,images=8,size=32,seed=9 --sizes 8,12,16 --output runs/eval")

    static func run(_ arguments: [String]) throws {
        let invocation = try Invocation(arguments, options: options, help: help)
        if invocation.helpRequested { print(help); return }
        let output = try invocation.required("output"), force = try invocation.bool("force")
        try RunFolderOptions.keepingConfig(invocation, output: output, force: force)
        let configuration = try EvaluationConfiguration.layered(invocation.layers(keeping: EvaluationConfiguration.keys))
        try CrossResolutionEvaluation(configuration: configuration).run(output: output, overwrite: force)
    }
}
