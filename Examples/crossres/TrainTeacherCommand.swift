import CrossRes
import Distributed

/// `crossres train-teacher`: an HR teacher (zoo backbone + margin head) in a run folder.
enum TrainTeacherCommand {
    static let options = TrainingConfiguration.options + RunFolderOptions.training + [DistributedRun.option]

    static let help = CommandHelp.text(
        "train-teacher", synopsis: "--data DATA --output DIR [options]",
        summary: "Trains a backbone with an ArcFace/CosFace head on the HR images. The run folder gets settings.json, metrics.jsonl,\ncheckpoint.safetensors (every --checkpoint-every steps and at the end), backbone.safetensors (PyTorch names) and result.json.",
        options: options, defaults: TrainingConfiguration.defaultDescription(_:),
        notes: ["A NaN or infinite loss or gradient stops the run with a message; the last good checkpoint is kept (continue with --resume",
                "after fixing the cause, e.g. a lower --lr in a new run)."] + DistributedRun.notes("train-teacher"),
        example: "crossres train-teacher --data synthetic:identities=20,images=8,size=32 --model smallfacenet --steps 200 --batch 32 --output runs/teacher")

    static func run(_ arguments: [String]) throws {
        let invocation = try Invocation(arguments, options: options, help: help)
        if invocation.helpRequested { print(help); return }
        guard try invocation.bool("distributed") else {
            try DistributedRun.checkSingleProcess()
            let run = try RunFolderOptions.trainingRun(TrainingConfiguration.self, invocation)
            try TeacherTraining(configuration: run.configuration).run(output: run.output, overwrite: run.force, resume: run.resume)
            return
        }
        try DistributedRun.run("train-teacher", TrainingConfiguration.self, invocation, training: { $0 }) { run, group in
            var training = try TeacherTraining(configuration: run.configuration)
            training.parallelism = group
            if !group.isRoot { training.say = { _ in } }
            try training.run(output: run.output, overwrite: run.force, resume: run.resume)
        }
    }
}
