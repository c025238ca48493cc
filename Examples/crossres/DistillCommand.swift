import CrossRes
import Distributed

/// `crossres distill`: an LR student trained from a frozen HR teacher with transfer losses.
enum DistillCommand {
    static let options = DistillationConfiguration.options + RunFolderOptions.training + [DistributedRun.option]

    static let help = CommandHelp.text(
        "distill", synopsis: "--teacher PATH --data DATA --output DIR [--transfer SPEC] [--degrade SPEC] [options]",
        summary: "Trains a student on the degraded LR view with its margin head plus the weighted transfer terms, the teacher frozen on the\nHR view. A spec with adda runs ADDA's alternating critic step (its own Adam, --critic-lr, betas 0.5, 0.9). Same run folder,\ncheckpoints and --resume as train-teacher.",
        options: options, defaults: DistillationConfiguration.defaultDescription(_:),
        notes: ["transfer spec: name[=weight][:option=value]... comma-separated, e.g. l2=5,nst=50:map=stage2,darkrank-soft=1,adda",
                "degradation spec: size=8..20,interp=bicubic,blur=0..0.6,noise=0..3,jpeg=30..90,up=32 (see Docs/Datasets.md)",
                "--init teacher starts the student from the teacher's weights (same model and sizes); report such students apart from",
                "scratch ones: a shared initialisation alone aligns the embedding spaces."] + DistributedRun.notes("distill"),
        example: "crossres distill --teacher runs/teacher --data synthetic:identities=20,images=8,size=32 --transfer l2=5,adda --steps 200 --batch 32 --output runs/student-l2-adda")

    static func run(_ arguments: [String]) throws {
        let invocation = try Invocation(arguments, options: options, help: help)
        if invocation.helpRequested { print(help); return }
        guard try invocation.bool("distributed") else {
            try DistributedRun.checkSingleProcess()
            let run = try RunFolderOptions.trainingRun(DistillationConfiguration.self, invocation)
            try DistillationTraining(configuration: run.configuration).run(output: run.output, overwrite: run.force, resume: run.resume)
            return
        }
        try DistributedRun.run("distill", DistillationConfiguration.self, invocation, training: \.training) { run, group in
            var training = try DistillationTraining(configuration: run.configuration)
            training.parallelism = group
            // Every rank holds the whole cache: the machine's budget is shared by its ranks.
            training.localProcesses = MachineResources.localProcesses()
            if !group.isRoot { training.say = { _ in } }
            try training.run(output: run.output, overwrite: run.force, resume: run.resume)
        }
    }
}
